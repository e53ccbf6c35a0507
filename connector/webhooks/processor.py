"""Applying stored webhook events, oldest first, each in one transaction with its
consequences (``StateStore.apply_*``):

- ``customer.tier_changed``: the customer's tier (unless a later change is already
  recorded: deliveries can arrive out of order); with ``write_back_tier`` on a Shopify
  source, a ``customer.tag`` entry owed in the ledger for each of that source's customers
  behind the Sticky customer (delivered by :mod:`connector.webhooks.writeback`);
- ``pass.installed``: the pass is marked installed (it will not be re-minted);
- ``journey.entered``: the customer's last journey.

Anything else is kept and marked ``ignored``; an event missing a field it needs is
marked ``failed`` with the field named. Pure decisions live here; only ``state`` writes.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import structlog

from connector.config import Settings, ShopifySourceSettings
from connector.mapping.keys import content_hash, idempotency_key
from connector.mapping.timestamps import parse_iso_utc
from state import StagedEntry, StateStore
from state.webhooks import InboxEvent

log = structlog.get_logger("connector.webhooks")

TIER_CHANGED = "customer.tier_changed"
PASS_INSTALLED = "pass.installed"  # noqa: S105 - an event type
JOURNEY_ENTERED = "journey.entered"
WRITE_BACK_TARGET = "shopify"
TAG_KIND = "customer.tag"


class EventProblem(ValueError):
    """A stored event that lacks what its type needs (marked failed, with the field)."""


@dataclass(slots=True)
class ProcessReport:
    outcomes: Counter[str] = field(default_factory=Counter)
    write_backs_owed: int = 0


ALIASES: dict[str, tuple[str, ...]] = {
    "customer_id": ("customer_id", "customer.id"),
    "tier": ("tier", "new_tier", "current_tier"),
    "previous_tier": ("previous_tier", "old_tier", "from_tier"),
    "pass_id": ("pass_id", "pass.id"),
}
"""Other spellings of a field a sender may use (the doc shows no event body); the first
found wins. ``customer.id`` is a field inside a nested object."""


def event_data(body: dict[str, Any]) -> dict[str, Any]:
    """The event's fields: ``data``, or ``data.object`` when the sender nests them."""
    data = body.get("data")
    if not isinstance(data, dict):
        return {}
    nested = data.get("object")
    return {**nested, **{k: v for k, v in data.items() if k != "object"}} if isinstance(
        nested, dict) else data


def _lookup(data: dict[str, Any], path: str) -> object:
    value: object = data
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def _optional(data: dict[str, Any], name: str) -> str | None:
    for path in ALIASES.get(name, (name,)):
        value = _lookup(data, path)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


def _required(data: dict[str, Any], name: str, event: InboxEvent) -> str:
    value = _optional(data, name)
    if value is None:
        raise EventProblem(f"{event.type} {event.event_id}: data.{name} is missing")
    return value


def _when(data: dict[str, Any], name: str, event: InboxEvent) -> datetime:
    value = data.get(name)
    parsed = parse_iso_utc(value) if isinstance(value, str) else None
    return parsed or event.event_created_at or event.received_at


def write_back_sources(settings: Settings) -> list[tuple[str, ShopifySourceSettings]]:
    """(tenant id, source) of every Shopify source with ``write_back_tier``."""
    return [(t.id, s) for t in settings.tenants for s in t.sources
            if isinstance(s, ShopifySourceSettings) and s.write_back_tier]


def tier_tag_entries(settings: Settings, store: StateStore, workspace: str,
                     customer_id: str, tier: str) -> list[tuple[str, str, StagedEntry]]:
    """The tier tag owed to each write-back source's customer behind this Sticky
    customer (a customer known only by phone has no source id to tag)."""
    owed: list[tuple[str, str, StagedEntry]] = []
    if not write_back_sources(settings):
        return owed  # no source takes tiers back: no identity look-up per event
    for tenant_id, customer_key in store.customers.keys_for_remote(workspace, customer_id):
        source_name, _, source_id = customer_key.partition(":")
        try:
            tenant = settings.tenant(tenant_id)
        except KeyError:
            continue
        source = next((s for s in tenant.sources if s.name == source_name), None)
        if not isinstance(source, ShopifySourceSettings) or not source.write_back_tier:
            continue
        payload = {"customer_id": source_id, "tag": source.tier_tag_prefix + tier,
                   "tier": tier, "prefix": source.tier_tag_prefix}
        digest = content_hash(payload)
        owed.append((tenant_id, WRITE_BACK_TARGET, StagedEntry(
            workspace=source.name, kind=TAG_KIND, key=source_id, source=source.name,
            payload_hash=digest, payload=payload, subject=customer_id,
            idempotency_key=idempotency_key(tenant_id, source.name, TAG_KIND, source_id,
                                            digest))))
    return owed


def apply_event(settings: Settings, store: StateStore, event: InboxEvent,
                report: ProcessReport) -> None:
    data = event_data(event.body)
    try:
        if event.type == TIER_CHANGED:
            customer_id = _required(data, "customer_id", event)
            tier = _required(data, "tier", event)
            points = data.get("points_balance")
            owed = tier_tag_entries(settings, store, event.workspace, customer_id, tier)
            applied = store.apply_tier_change(
                event, customer_id, tier, _optional(data, "previous_tier"),
                event.event_created_at or event.received_at,
                points if isinstance(points, int) else None, owed)
            report.outcomes["applied" if applied else "ignored"] += 1
            report.write_backs_owed += len(owed) if applied else 0
        elif event.type == PASS_INSTALLED:
            customer_id = _required(data, "customer_id", event)
            pass_id = _required(data, "pass_id", event)
            applied = store.apply_pass_install(
                event, customer_id, pass_id, _when(data, "installed_at", event),
                _optional(data, "platform"))
            report.outcomes["applied" if applied else "ignored"] += 1
        elif event.type == JOURNEY_ENTERED:
            customer_id = _required(data, "customer_id", event)
            journey = _required(data, "journey", event)
            applied = store.apply_journey(event, customer_id, journey,
                                          event.event_created_at or event.received_at)
            report.outcomes["applied" if applied else "ignored"] += 1
        else:
            store.finish_webhook(event, "ignored", f"event type {event.type} is kept, "
                                 "not acted on")
            report.outcomes["ignored"] += 1
    except EventProblem as problem:
        log.warning("webhook event not applied", workspace=event.workspace,
                    event_id=event.event_id, error=str(problem))
        store.finish_webhook(event, "failed", str(problem))
        report.outcomes["failed"] += 1


def process_pending(settings: Settings, store: StateStore, limit: int = 200) -> ProcessReport:
    """Apply every stored event not applied yet (in batches of ``limit``)."""
    report = ProcessReport()
    while True:
        batch = store.webhooks.unprocessed(limit)
        for event in batch:
            apply_event(settings, store, event, report)
        if len(batch) < limit:
            return report
