"""Webhook events: types, payloads and the records of their deliveries."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, Protocol

from sandbox.ids import iso_z, new_id
from sandbox.sticky.store import Customer, Pass

TIER_CHANGED = "customer.tier_changed"
PASS_INSTALLED = "pass.installed"  # noqa: S105 - an event type, not a password
JOURNEY_ENTERED = "journey.entered"

DeliveryState = Literal["pending", "delivered", "failed"]


@dataclass
class Attempt:
    """One POST (each duplicate copy is its own entry, sharing ``n``)."""

    n: int
    at: datetime
    status: int | None  # None when no answer came (connection error, timeout)
    error: str | None

    @property
    def succeeded(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


@dataclass
class Delivery:
    """One event to one subscription."""

    subscription_id: str
    url: str
    secret: str
    next_attempt_at: datetime | None
    state: DeliveryState = "pending"
    attempts: list[Attempt] = field(default_factory=list)
    numbered: int = 0  # attempt numbers handed out so far
    schedule: asyncio.Task[None] | None = field(default=None, repr=False, compare=False)

    def next_number(self) -> int:
        self.numbered += 1
        return self.numbered


@dataclass
class WebhookEvent:
    id: str
    type: str
    workspace: str
    created_at: datetime
    payload: dict[str, object]
    body: bytes  # the exact bytes every attempt sends
    deliveries: list[Delivery] = field(default_factory=list)


class WebhookEmitter(Protocol):
    """What handlers and triggers use to raise an event."""

    def emit(self, workspace: str, event_type: str, data: dict[str, object]) -> WebhookEvent: ...


def new_event(
    workspace: str, event_type: str, data: dict[str, object], now: datetime
) -> WebhookEvent:
    """An event with its compact JSON body ``{"id", "type", "created_at", "workspace", "data"}``."""
    event_id = new_id("whe")
    payload: dict[str, object] = {
        "id": event_id,
        "type": event_type,
        "created_at": iso_z(now),
        "workspace": workspace,
        "data": data,
    }
    body = json.dumps(payload, separators=(",", ":")).encode()
    return WebhookEvent(event_id, event_type, workspace, now, payload, body)


def tier_changed(customer: Customer, previous_tier: str) -> dict[str, object]:
    return {
        "customer_id": customer.id,
        "previous_tier": previous_tier,
        "tier": customer.tier,
        "points_balance": customer.points_balance,
    }


def pass_installed(installed: Pass) -> dict[str, object]:
    return {
        "pass_id": installed.id,
        "customer_id": installed.customer_id,
        "platform": installed.platform,
        "installed_at": None if installed.installed_at is None else iso_z(installed.installed_at),
    }


def journey_entered(customer_id: str, journey: str) -> dict[str, object]:
    return {"customer_id": customer_id, "journey": journey}
