"""Points and tier rules."""

from __future__ import annotations

ORDER_COMPLETED = "order.completed"
ORDER_REFUNDED = "order.refunded"
EVENT_TYPES = (ORDER_COMPLETED, ORDER_REFUNDED, "visit", "referral")
ORDER_EVENTS = frozenset({ORDER_COMPLETED, ORDER_REFUNDED})

# (minimum balance, tier), highest first
_TIERS = ((2500, "platinum"), (1000, "gold"), (250, "silver"), (0, "bronze"))
TIERS = tuple(tier for _, tier in reversed(_TIERS))  # lowest first


def points_for(event_type: str, amount_cents: int | None) -> int:
    """Signed points change: +1 per whole dollar ordered, -1 per whole dollar refunded."""
    if amount_cents is None:
        return 0
    if event_type == ORDER_COMPLETED:
        return amount_cents // 100
    if event_type == ORDER_REFUNDED:
        return -(amount_cents // 100)
    return 0


def apply_points(balance: int, delta: int) -> int:
    """New balance; never below zero."""
    return max(0, balance + delta)


def tier_for(balance: int) -> str:
    for minimum, tier in _TIERS:
        if balance >= minimum:
            return tier
    return "bronze"
