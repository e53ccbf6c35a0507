"""Webhooks: subscriptions made, the inbox of verified events, and the loyalty facts
(tier, journey) they carry per Sticky customer."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, Row, func, select, update

from state._sql import full_sync, insert_ignore, upsert, utcnow
from state.schema import loyalty, webhook_events, webhook_subscriptions


@dataclass(frozen=True, slots=True)
class Subscription:
    workspace: str
    url: str
    events: list[str]
    subscription_id: str | None
    secret_fingerprint: str | None
    idempotency_key: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class InboxEvent:
    id: int
    workspace: str
    event_id: str
    type: str
    body: dict[str, Any]
    event_created_at: datetime | None
    received_at: datetime
    deliveries: int
    processed_at: datetime | None
    outcome: str | None
    detail: str | None


@dataclass(frozen=True, slots=True)
class LoyaltyFacts:
    workspace: str
    customer_id: str
    tier: str | None
    previous_tier: str | None
    tier_changed_at: datetime | None
    points_balance: int | None
    last_journey: str | None
    last_journey_at: datetime | None
    updated_at: datetime


def _subscription(row: Row[Any]) -> Subscription:
    return Subscription(row.workspace, row.url, list(row.events), row.subscription_id,
                        row.secret_fingerprint, row.idempotency_key, row.created_at,
                        row.updated_at)


def _event(row: Row[Any]) -> InboxEvent:
    return InboxEvent(row.id, row.workspace, row.event_id, row.type, dict(row.body),
                      row.event_created_at, row.received_at, row.deliveries,
                      row.processed_at, row.outcome, row.detail)


def _facts(row: Row[Any]) -> LoyaltyFacts:
    return LoyaltyFacts(**{name: getattr(row, name)
                           for name in LoyaltyFacts.__dataclass_fields__})


class Webhooks:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    # -- subscriptions ----------------------------------------------------------------
    def subscription(self, workspace: str) -> Subscription | None:
        with self._engine.connect() as conn:
            row = conn.execute(select(webhook_subscriptions).where(
                webhook_subscriptions.c.workspace == workspace)).first()
        return None if row is None else _subscription(row)

    def subscriptions(self) -> list[Subscription]:
        with self._engine.connect() as conn:
            rows = conn.execute(select(webhook_subscriptions).order_by(
                webhook_subscriptions.c.workspace)).all()
        return [_subscription(r) for r in rows]

    def save_subscription(self, workspace: str, url: str, events: Sequence[str],
                          subscription_id: str | None, secret_fingerprint: str | None,
                          idempotency_key: str) -> None:
        now = utcnow()
        with self._engine.begin() as conn:
            upsert(conn, webhook_subscriptions, [{
                "workspace": workspace, "url": url, "events": list(events),
                "subscription_id": subscription_id, "secret_fingerprint": secret_fingerprint,
                "idempotency_key": idempotency_key, "created_at": now, "updated_at": now,
            }], keys=("workspace",), update=("url", "events", "subscription_id",
                                             "secret_fingerprint", "idempotency_key",
                                             "updated_at"))

    # -- inbox ------------------------------------------------------------------------
    def store_event(self, workspace: str, event_id: str, event_type: str,
                    body: dict[str, Any], event_created_at: datetime | None) -> bool:
        """Keep a verified event once; True when it is new (a repeat only counts).

        Durable when it returns, power loss included: the receiver answers 2xx only
        then, and Sticky will not send it again. On SQLite this commit is made with
        ``synchronous=FULL`` (the WAL is fsynced), where the rest of the state DB uses
        ``NORMAL`` (durable across a crash of the process, not of the machine)."""
        with self._engine.connect() as conn, full_sync(conn), conn.begin():
            added = insert_ignore(conn, webhook_events, [{
                "workspace": workspace, "event_id": event_id, "type": event_type,
                "body": body, "event_created_at": event_created_at,
                "received_at": utcnow(), "deliveries": 1}])
            if not added:
                conn.execute(update(webhook_events).where(
                    webhook_events.c.workspace == workspace,
                    webhook_events.c.event_id == event_id,
                ).values(deliveries=webhook_events.c.deliveries + 1))
        return bool(added)

    def unprocessed(self, limit: int = 200) -> list[InboxEvent]:
        """Events not processed yet, oldest event first (then arrival)."""
        with self._engine.connect() as conn:
            rows = conn.execute(select(webhook_events).where(
                webhook_events.c.processed_at.is_(None)).order_by(
                webhook_events.c.event_created_at, webhook_events.c.id).limit(limit)).all()
        return [_event(r) for r in rows]

    def events(self, workspace: str | None = None) -> list[InboxEvent]:
        query = select(webhook_events).order_by(webhook_events.c.id)
        if workspace is not None:
            query = query.where(webhook_events.c.workspace == workspace)
        with self._engine.connect() as conn:
            return [_event(r) for r in conn.execute(query).all()]

    def finish(self, event_row: int, outcome: str, detail: str | None,
               conn: Connection) -> None:
        conn.execute(update(webhook_events).where(webhook_events.c.id == event_row).values(
            processed_at=utcnow(), outcome=outcome, detail=detail))

    def inbox_counts(self, workspace: str | None = None) -> dict[str, int]:
        """received (distinct events), deliveries (with repeats), pending, and one entry
        per outcome."""
        query = select(webhook_events.c.outcome, func.count(),
                       func.coalesce(func.sum(webhook_events.c.deliveries), 0))
        if workspace is not None:
            query = query.where(webhook_events.c.workspace == workspace)
        with self._engine.connect() as conn:
            rows = conn.execute(query.group_by(webhook_events.c.outcome)).all()
        out = {"received": 0, "deliveries": 0}
        for outcome, n, deliveries in rows:
            out["received"] += int(n)
            out["deliveries"] += int(deliveries)
            out[str(outcome) if outcome is not None else "pending"] = int(n)
        return out

    def last_received(self, workspace: str | None = None) -> datetime | None:
        query = select(func.max(webhook_events.c.received_at))
        if workspace is not None:
            query = query.where(webhook_events.c.workspace == workspace)
        with self._engine.connect() as conn:
            value = conn.execute(query).scalar_one_or_none()
        return value if isinstance(value, datetime) else None

    # -- loyalty facts ----------------------------------------------------------------
    def facts(self, workspace: str, customer_id: str) -> LoyaltyFacts | None:
        with self._engine.connect() as conn:
            return self._facts_within(workspace, customer_id, conn)

    @staticmethod
    def _facts_within(workspace: str, customer_id: str,
                      conn: Connection) -> LoyaltyFacts | None:
        row = conn.execute(select(loyalty).where(
            loyalty.c.workspace == workspace, loyalty.c.customer_id == customer_id)).first()
        return None if row is None else _facts(row)

    def all_facts(self, workspaces: Sequence[str] | None = None) -> list[LoyaltyFacts]:
        query = select(loyalty).order_by(loyalty.c.workspace, loyalty.c.customer_id)
        if workspaces is not None:
            query = query.where(loyalty.c.workspace.in_(sorted(set(workspaces))))
        with self._engine.connect() as conn:
            return [_facts(r) for r in conn.execute(query).all()]

    def tier_counts(self, workspaces: Sequence[str]) -> dict[str, int]:
        with self._engine.connect() as conn:
            rows = conn.execute(select(loyalty.c.tier, func.count()).where(
                loyalty.c.workspace.in_(sorted(set(workspaces))),
                loyalty.c.tier.is_not(None)).group_by(loyalty.c.tier)).all()
        return {str(tier): int(n) for tier, n in rows}

    def set_tier(self, workspace: str, customer_id: str, tier: str,
                 previous_tier: str | None, changed_at: datetime,
                 points_balance: int | None, conn: Connection) -> bool:
        """Record a tier change unless a later one is already recorded (deliveries can
        arrive out of order); True when this is now the customer's tier."""
        known = self._facts_within(workspace, customer_id, conn)
        if (known is not None and known.tier_changed_at is not None
                and known.tier_changed_at > changed_at):
            return False
        values = {"tier": tier, "previous_tier": previous_tier,
                  "tier_changed_at": changed_at, "points_balance": points_balance,
                  "updated_at": utcnow()}
        self._put(conn, workspace, customer_id, values, known is None)
        return True

    def set_journey(self, workspace: str, customer_id: str, journey: str,
                    entered_at: datetime, conn: Connection) -> bool:
        known = self._facts_within(workspace, customer_id, conn)
        if (known is not None and known.last_journey_at is not None
                and known.last_journey_at > entered_at):
            return False
        values = {"last_journey": journey, "last_journey_at": entered_at,
                  "updated_at": utcnow()}
        self._put(conn, workspace, customer_id, values, known is None)
        return True

    @staticmethod
    def _put(conn: Connection, workspace: str, customer_id: str, values: dict[str, Any],
             new: bool) -> None:
        if new:
            conn.execute(loyalty.insert().values(workspace=workspace,
                                                 customer_id=customer_id, **values))
        else:
            conn.execute(update(loyalty).where(
                loyalty.c.workspace == workspace,
                loyalty.c.customer_id == customer_id).values(**values))
