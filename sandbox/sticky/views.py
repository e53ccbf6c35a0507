"""JSON shapes of Sticky records: API responses and inspection dumps."""

from __future__ import annotations

from datetime import datetime

from sandbox.ids import iso_ms, iso_z
from sandbox.sticky.store import Customer, Event, Pass, Webhook
from sandbox.sticky.webhook_events import Attempt, Delivery, WebhookEvent

WALLET_BASE = "https://wallet.sticky.co"
GOOGLE_SAVE_BASE = "https://pay.google.com/gp/v/save/"


def customer_public(c: Customer) -> dict[str, object]:
    return {
        "id": c.id,
        "created_at": iso_z(c.created_at),
        "phone": c.phone,
        "email": c.email,
        "first_name": c.first_name,
        "tier": c.tier,
        "points_balance": c.points_balance,
    }


def customer_inspection(c: Customer) -> dict[str, object]:
    return {
        "workspace": c.workspace,
        "id": c.id,
        "phone": c.phone,
        "email": c.email,
        "first_name": c.first_name,
        "consent": c.consent,
        "metadata": c.metadata,
        "points_balance": c.points_balance,
        "tier": c.tier,
        "idempotency_key": c.idempotency_key,
        "created_at": iso_z(c.created_at),
    }


def event_public(e: Event) -> dict[str, object]:
    return {
        "id": e.id,
        "type": e.type,
        "customer_id": e.customer_id,
        "amount_cents": e.amount_cents,
        "items": e.items,
        "points_awarded": e.points_awarded,
        "created_at": iso_z(e.created_at),
    }


def event_inspection(e: Event) -> dict[str, object]:
    return {"workspace": e.workspace, **event_public(e), "idempotency_key": e.idempotency_key}


def pass_public(p: Pass) -> dict[str, object]:
    return {
        "id": p.id,
        "customer_id": p.customer_id,
        "install_url": f"{WALLET_BASE}/i/{p.token}",
        "apple_url": f"{WALLET_BASE}/a/{p.token}.pkpass",
        "google_url": GOOGLE_SAVE_BASE + p.google_jwt,
        "expires_at": iso_z(p.expires_at),
    }


def pass_inspection(p: Pass) -> dict[str, object]:
    return {
        "workspace": p.workspace,
        **pass_public(p),
        "idempotency_key": p.idempotency_key,
        "created_at": iso_z(p.created_at),
        "installed_at": _optional_iso(p.installed_at),
        "platform": p.platform,
    }


def webhook_public(w: Webhook) -> dict[str, object]:
    return {
        "id": w.id,
        "url": w.url,
        "events": w.events,
        "secret": w.secret,
        "created_at": iso_z(w.created_at),
    }


def webhook_inspection(w: Webhook) -> dict[str, object]:
    return {"workspace": w.workspace, **webhook_public(w), "idempotency_key": w.idempotency_key}


def _optional_iso(moment: datetime | None) -> str | None:
    return None if moment is None else iso_z(moment)


def _attempt_inspection(a: Attempt) -> dict[str, object]:
    return {"n": a.n, "at": iso_ms(a.at), "status": a.status, "error": a.error}


def _delivery_inspection(d: Delivery) -> dict[str, object]:
    return {
        "subscription_id": d.subscription_id,
        "url": d.url,
        "state": d.state,
        "next_attempt_at": None if d.next_attempt_at is None else iso_ms(d.next_attempt_at),
        "attempts": [_attempt_inspection(a) for a in d.attempts],
    }


def webhook_event_inspection(e: WebhookEvent) -> dict[str, object]:
    return {
        "id": e.id,
        "type": e.type,
        "workspace": e.workspace,
        "created_at": iso_z(e.created_at),
        "body": e.payload,
        "deliveries": [_delivery_inspection(d) for d in e.deliveries],
    }
