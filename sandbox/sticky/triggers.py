"""What the sandbox's control endpoints do to Sticky data: set a tier, install or expire a
pass, enter a journey. Each change that Sticky would announce emits its webhook event.

Errors are :class:`~sandbox.errors.ApiError`s (400 validation, 404 unknown id, 409 pass
already installed, 410 pass expired).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

from sandbox.errors import ApiError, invalid
from sandbox.ids import utc_now
from sandbox.sticky.loyalty import TIERS
from sandbox.sticky.store import Customer, Pass, StickyStore
from sandbox.sticky.webhook_events import (
    JOURNEY_ENTERED,
    PASS_INSTALLED,
    TIER_CHANGED,
    WebhookEmitter,
    WebhookEvent,
    journey_entered,
    pass_installed,
    tier_changed,
)
from sandbox.validation import missing, reject_unknown

PLATFORMS = ("apple", "google")
MAX_JOURNEY = 100


class Triggers:
    def __init__(self, store: StickyStore, webhooks: WebhookEmitter) -> None:
        self._store = store
        self._webhooks = webhooks

    def set_tier(
        self, customer_id: str, body: Mapping[str, object]
    ) -> tuple[Customer, WebhookEvent | None]:
        """Set the tier directly (points unchanged); emits only when it changed."""
        reject_unknown(body, ("tier",))
        if "tier" not in body:
            raise missing("tier")
        tier = body["tier"]
        if not isinstance(tier, str) or tier not in TIERS:
            raise invalid("invalid_tier", f"tier must be one of {', '.join(TIERS)}.", "tier")
        customer = self._customer(customer_id)
        previous = customer.tier
        if tier == previous:
            return customer, None
        customer.tier = tier
        data = tier_changed(customer, previous)
        return customer, self._webhooks.emit(customer.workspace, TIER_CHANGED, data)

    def install_pass(self, pass_id: str, body: Mapping[str, object]) -> tuple[Pass, WebhookEvent]:
        """Single use: 409 when already installed, 410 after ``expires_at``."""
        reject_unknown(body, ("platform",))
        platform = body.get("platform", "apple")
        if not isinstance(platform, str) or platform not in PLATFORMS:
            raise invalid(
                "invalid_platform", f"platform must be one of {', '.join(PLATFORMS)}.", "platform"
            )
        found = self._pass(pass_id)
        now = utc_now()
        if found.installed_at is not None:
            raise invalid(
                "pass_already_installed",
                f"Pass {pass_id} was already installed; install URLs are single-use.",
                status=409,
            )
        if now >= found.expires_at:
            raise invalid("pass_expired", f"Pass {pass_id} has expired.", status=410)
        found.installed_at = now
        found.platform = platform
        event = self._webhooks.emit(found.workspace, PASS_INSTALLED, pass_installed(found))
        return found, event

    def expire_pass(self, pass_id: str, body: Mapping[str, object]) -> Pass:
        """Move ``expires_at`` one second into the past (the body takes no fields)."""
        reject_unknown(body, ())
        found = self._pass(pass_id)
        found.expires_at = utc_now() - timedelta(seconds=1)
        return found

    def enter_journey(
        self, customer_id: str, body: Mapping[str, object]
    ) -> tuple[Customer, str, WebhookEvent]:
        reject_unknown(body, ("journey",))
        if "journey" not in body:
            raise missing("journey")
        journey = body["journey"]
        if not isinstance(journey, str) or not journey or len(journey) > MAX_JOURNEY:
            raise invalid(
                "invalid_journey",
                f"journey must be a non-empty string of at most {MAX_JOURNEY} characters.",
                "journey",
            )
        customer = self._customer(customer_id)
        data = journey_entered(customer.id, journey)
        return customer, journey, self._webhooks.emit(customer.workspace, JOURNEY_ENTERED, data)

    def _customer(self, customer_id: str) -> Customer:
        customer = self._store.find_customer(customer_id)
        if customer is None:
            raise _not_found("customer_not_found", f"No such customer: {customer_id!r}.")
        return customer

    def _pass(self, pass_id: str) -> Pass:
        found = self._store.find_pass(pass_id)
        if found is None:
            raise _not_found("pass_not_found", f"No such pass: {pass_id!r}.")
        return found


def _not_found(code: str, message: str) -> ApiError:
    return invalid(code, message, status=404)
