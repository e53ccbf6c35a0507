"""``sticky-sync webhooks``: subscribe each workspace, apply stored events, export what
Sticky reported per customer (``loyalty export``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import structlog

from connector.commands.passes import choose_tenant
from connector.commands.tables import csv_text as table_csv
from connector.commands.tables import iso_z
from connector.config import Settings
from connector.errors import ConfigurationError
from connector.mapping.keys import content_hash, idempotency_key
from connector.sync.orchestrator import sticky_client
from connector.webhooks.processor import ProcessReport, process_pending
from connector.webhooks.secrets import SecretBook, fingerprint
from connector.webhooks.writeback import WriteBackReport, deliver_tier_tags
from state import StateStore

log = structlog.get_logger("connector.webhooks")

SUBSCRIBE_KIND = "webhook.subscribe"
SECRET_FIELDS = ("secret", "signing_secret", "webhook_secret")
"""Where the answer to POST /v1/webhooks may carry the signing secret (the doc shows no
response; ``secret`` is what the sandbox, like Stripe, answers)."""


@dataclass(frozen=True, slots=True)
class Subscribed:
    workspace: str
    url: str
    action: str  # subscribed | already_subscribed
    subscription_id: str | None
    note: str = ""


def subscribe_key(workspace: str, url: str, events: Sequence[str]) -> str:
    """Same workspace, URL and events → same key: a repeat after a lost answer (or a
    lost state DB) is answered by Sticky with the same subscription."""
    return idempotency_key("webhooks", workspace, SUBSCRIBE_KIND, url,
                           content_hash({"events": sorted(events)}))


async def subscribe_command(settings: Settings,
                            workspaces: Sequence[str] | None = None) -> list[Subscribed]:
    """Register ``webhooks.url`` for ``webhooks.events`` in each workspace, unless the
    same subscription is recorded and its secret is at hand."""
    hooks = settings.webhooks
    chosen = list(workspaces) if workspaces else settings.all_workspaces
    unknown = sorted(set(chosen) - set(settings.all_workspaces))
    if unknown:
        raise ConfigurationError(f"--workspace: not a configured workspace: {unknown}")
    secrets = SecretBook(hooks)
    store = settings.state.open()
    done: list[Subscribed] = []
    try:
        async with sticky_client(settings) as sticky:
            for workspace in chosen:
                url, events = hooks.url_for(workspace), list(hooks.events)
                current = store.webhooks.subscription(workspace)
                secret = secrets.secret(workspace)
                if (current is not None and current.url == url
                        and sorted(current.events) == sorted(events) and secret is not None):
                    done.append(Subscribed(workspace, url, "already_subscribed",
                                           current.subscription_id))
                    continue
                key = subscribe_key(workspace, url, events)
                result = await sticky.subscribe_webhook(workspace, url, events, key)
                new_secret = next((v for k in SECRET_FIELDS
                                   if isinstance(v := result.body.get(k), str) and v), None)
                note = ""
                if new_secret is not None:
                    secrets.save(workspace, new_secret)
                    secret = new_secret
                elif secret is None:
                    note = (f"Sticky returned no signing secret: set "
                            f"{hooks.secret_env(workspace)} from the Sticky dashboard")
                if current is not None and current.subscription_id != result.remote_id:
                    note = (note + "; " if note else "") + (
                        f"the previous subscription {current.subscription_id} "
                        f"({current.url}) still exists at Sticky: remove it there")
                store.webhooks.save_subscription(
                    workspace, url, events, result.remote_id,
                    fingerprint(secret) if secret else None, key)
                log.info("webhook subscribed", workspace=workspace, url=url,
                         subscription_id=result.remote_id)
                done.append(Subscribed(workspace, url, "subscribed", result.remote_id, note))
    finally:
        store.close()
    return done


def process_command(settings: Settings) -> tuple[ProcessReport, WriteBackReport]:
    store = settings.state.open()
    try:
        applied = process_pending(settings, store)
        written = deliver_tier_tags(settings, store)
    finally:
        store.close()
    return applied, written


LOYALTY_COLUMNS = ("workspace", "sticky_customer_id", "customer_keys", "tier",
                   "previous_tier", "tier_changed_at", "points_balance", "pass_id",
                   "pass_status", "pass_installed_at", "pass_platform", "last_journey",
                   "last_journey_at")


def loyalty_rows(settings: Settings, store: StateStore,
                 tenant_id: str | None = None) -> list[dict[str, str]]:
    """One row per Sticky customer Sticky told us about (tier, journey) or that has a
    pass, in the configured (or the named tenant's) workspaces."""
    tenants = [choose_tenant(settings, tenant_id)] if tenant_id else settings.tenants
    workspaces = sorted({ws for t in tenants for ws in t.all_workspaces})
    facts = {(f.workspace, f.customer_id): f for f in store.webhooks.all_facts(workspaces)}
    passes = {(p.workspace, p.customer_id): p for t in tenants
              for p in store.passes.all(t.id)}
    rows: list[dict[str, str]] = []
    for workspace, customer_id in sorted(set(facts) | set(passes)):
        fact, minted = facts.get((workspace, customer_id)), passes.get((workspace, customer_id))
        keys = [k for t, k in store.customers.keys_for_remote(workspace, customer_id)
                if any(t == tenant.id for tenant in tenants)]
        rows.append({
            "workspace": workspace, "sticky_customer_id": customer_id,
            "customer_keys": " ".join(keys),
            "tier": (fact.tier or "") if fact else "",
            "previous_tier": (fact.previous_tier or "") if fact else "",
            "tier_changed_at": iso_z(fact.tier_changed_at if fact else None),
            "points_balance": "" if fact is None or fact.points_balance is None
            else str(fact.points_balance),
            "pass_id": (minted.pass_id or "") if minted else "",
            "pass_status": minted.status if minted else "",
            "pass_installed_at": iso_z(minted.installed_at if minted else None),
            "pass_platform": (minted.platform or "") if minted else "",
            "last_journey": (fact.last_journey or "") if fact else "",
            "last_journey_at": iso_z(fact.last_journey_at if fact else None)})
    return rows


def loyalty_csv(rows: Sequence[dict[str, str]]) -> str:
    return table_csv(LOYALTY_COLUMNS, rows)

