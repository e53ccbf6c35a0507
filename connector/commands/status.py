"""``sticky-sync status``: what the state DB says about each tenant and source."""

from __future__ import annotations

import time
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from adapters.csv_drop import CsvDropAdapter
from connector.config import CsvSourceSettings, Settings, SourceSettings, TenantSettings
from connector.sync.lag import cursor_lag_seconds
from connector.sync.organizations import KIND as STICKER_SETUP
from connector.sync.organizations import STEP
from connector.sync.organizations import TARGET as STICKER
from connector.sync.passes import STEP as PASSES_STEP
from connector.webhooks.processor import TAG_KIND, WRITE_BACK_TARGET
from state import Disposition, StateStore


def collect_status(settings: Settings) -> dict[str, Any]:
    store = settings.state.open()
    try:
        tenants: list[dict[str, Any]] = []
        for tenant in settings.tenants:
            sources = []
            for source in tenant.sources:
                lease = store.leases.holder(tenant.id, source.name)
                cursors = store.cursors.all_for(tenant.id, source.name)
                latest = store.cursors.latest(tenant.id, source.name)
                sources.append({
                    "source": source.name, "kind": source.kind,
                    "runs": [{"id": r.id, "trigger": r.trigger, "started_at": r.started_at,
                              "finished_at": r.finished_at, "outcome": r.outcome,
                              "error": r.error}
                             for r in store.runs.recent(tenant.id, source.name)],
                    "cursors": len(cursors),
                    "files_done": sum(1 for p in cursors.values() if p.get("done")),
                    "cursor": None if latest is None else {
                        "stream": latest[0], "position": latest[1],
                        "moved_at": latest[2]},
                    **_lag_and_files(store, tenant, source),
                    "pending": store.ledger.pending_of_source(tenant.id, source.name),
                    "open_issues": store.issues.open_counts(tenant.id, source.name),
                    "quarantined_by_reason": store.issues.open_reasons(tenant.id,
                                                                       source.name),
                    "lease": None if lease is None else {
                        "holder": lease.holder, "expires_at": lease.expires_at,
                        "generation": lease.generation},
                })
            tenants.append({"tenant": tenant.id, "ledger": store.ledger.counts(tenant.id),
                            "customers_known": store.customers.count_identities(tenant.id),
                            "sources": sources,
                            "organization": _organization(store, tenant),
                            "needs_attention": [
                                {"scope": i.scope, "kind": i.kind, "key": i.key,
                                 "message": i.message, "since": i.first_seen_at}
                                for i in store.attention.open_items(tenant.id)],
                            "passes": _passes(store, tenant),
                            "loyalty": {
                                "tiers": store.webhooks.tier_counts(tenant.all_workspaces),
                                "tier_write_backs": store.ledger.counts_of(
                                    tenant.id, WRITE_BACK_TARGET, TAG_KIND)}})
        return {"tenants": tenants, "webhooks": _webhooks(store, settings),
                # the processes sharing each workspace's rate right now (replicas, a
                # backfill next to the daemon...): connector/sync/budget.py
                "senders": store.senders.live()}
    finally:
        store.close()


def _lag_and_files(store: StateStore, tenant: TenantSettings,
                   source: SourceSettings) -> dict[str, Any]:
    """The lag (from the last complete read, or from the oldest file waiting unread when
    that is older), the files not read yet, and what the last run left for a person."""
    lag = cursor_lag_seconds(store, tenant.id, source.name)
    unread: list[dict[str, Any]] = []
    if isinstance(source, CsvSourceSettings):
        drop = CsvDropAdapter(name=source.name, drop_dir=source.drop_dir,
                              stable_seconds=source.stable_seconds)
        now = time.time()
        for name, modified, stable in drop.unread():
            unread.append({"file": name, "modified_seconds_ago": round(now - modified, 1),
                           "state": "ready" if stable else
                           f"waiting: read once unchanged for {source.stable_seconds:g} s"})
        if unread:
            oldest = max(f["modified_seconds_ago"] for f in unread)
            lag = oldest if lag is None else max(lag, oldest)
    runs = store.runs.recent(tenant.id, source.name, limit=1)
    counts = runs[0].counts or {} if runs else {}
    return {"lag_seconds": lag, "unread_files": unread,
            "last_run_attention": [*counts.get("attention", []), *counts.get("notes", [])]}


def _organization(store: StateStore, tenant: TenantSettings) -> dict[str, Any] | None:
    if tenant.sticker is None:
        return None
    org = store.organizations.get(tenant.id)
    stores = store.locations.all_for(tenant.id)
    runs = store.runs.recent(tenant.id, STEP)
    last = runs[0] if runs else None
    profiles = store.ledger.counts_of(tenant.id, STICKER, STICKER_SETUP)
    return {
        "internal_org_id": tenant.internal_org_id,
        "set_up": org is not None,
        "organization_id": org.organization_id if org else None,
        "stripe_customer_id": org.stripe_customer_id if org else None,
        "profiles": profiles,
        "stores_known": len(stores),
        "stores_confirmed": None if org is None or org.locations is None else sum(
            1 for key in stores if key in org.locations),
        "last_run": None if last is None else {
            "started_at": last.started_at, "outcome": last.outcome, "error": last.error},
    }


def _passes(store: StateStore, tenant: TenantSettings) -> dict[str, Any] | None:
    if tenant.passes is None:
        return None
    runs = store.runs.recent(tenant.id, PASSES_STEP, limit=1)
    return {"counts": store.passes.counts(tenant.id),
            "last_run": None if not runs else {
                "started_at": runs[0].started_at, "outcome": runs[0].outcome,
                "error": runs[0].error}}


def _webhooks(store: StateStore, settings: Settings) -> dict[str, Any]:
    return {
        "url": settings.webhooks.url,
        "subscriptions": [{"workspace": s.workspace, "url": s.url, "events": s.events,
                           "subscription_id": s.subscription_id,
                           "subscribed_at": s.updated_at}
                          for s in store.webhooks.subscriptions()],
        "inbox": store.webhooks.inbox_counts(),
        "last_received_at": store.webhooks.last_received()}


def _age(seconds: float | None) -> str:
    if seconds is None:
        return "never synced"
    if seconds < 120:
        return f"{seconds:.0f}s"
    if seconds < 7200:
        return f"{seconds / 60:.0f}m"
    return f"{seconds / 3600:.1f}h"


def render_status(data: dict[str, Any], console: Console) -> None:
    for tenant in data["tenants"]:
        ledger = ", ".join(f"{k} {v}" for k, v in sorted(tenant["ledger"].items())) or "empty"
        console.print(Text(tenant["tenant"], style="bold") + Text(
            f": ledger {ledger}; {tenant['customers_known']} customer identities"))
        table = Table()
        for column in ("source", "last run", "outcome", "lag", "cursor moved", "pending",
                       "skipped", "rejected", "quarantined", "lease"):
            table.add_column(column)
        for s in tenant["sources"]:
            last = s["runs"][0] if s["runs"] else None
            issues = s["open_issues"]
            table.add_row(
                s["source"], f"{last['started_at']:%Y-%m-%d %H:%M:%S}" if last else "never",
                (last["outcome"] or "running") if last else "-", _age(s["lag_seconds"]),
                f"{s['cursor']['moved_at']:%Y-%m-%d %H:%M:%S}" if s["cursor"] else "never",
                str(s["pending"]), str(issues.get(Disposition.SKIPPED, 0)),
                str(issues.get(Disposition.REJECTED, 0)),
                str(issues.get(Disposition.QUARANTINED, 0)),
                s["lease"]["holder"] if s["lease"] else "-")
        console.print(table)
        _render_leases(tenant["sources"], console)
        for s in tenant["sources"]:
            if s["quarantined_by_reason"]:
                console.print(f"{s['source']}: quarantined by reason: " + ", ".join(
                    f"{reason} {n}" for reason, n in sorted(
                        s["quarantined_by_reason"].items())) + " (sticky-sync dlq list)",
                    highlight=False)
            for run in s["runs"][:1]:
                if run["error"]:
                    console.print(Text(f"{s['source']}: last run: {run['error']}"),
                                  soft_wrap=True)
            for line in s["last_run_attention"]:
                console.print(Text(f"{s['source']}: needs attention: ", style="bold yellow")
                              + Text(line), soft_wrap=True)
            for f in s["unread_files"]:
                console.print(Text(f"{s['source']}: not read yet: {f['file']}, modified "
                                   f"{f['modified_seconds_ago']:g} s ago ({f['state']})"),
                              soft_wrap=True)
        org = tenant.get("organization")
        if org is not None:
            confirmed = ("unknown" if org["stores_confirmed"] is None
                         else str(org["stores_confirmed"]))
            state = (f"set up as {org['organization_id'] or '(id unknown)'}"
                     if org["set_up"] else "not set up yet")
            profiles = ", ".join(f"{k} {v}" for k, v in sorted(org["profiles"].items()))
            console.print(f"Sticker organization {org['internal_org_id']}: {state}; "
                          f"profiles {profiles or 'none'}; stores {org['stores_known']}, "
                          f"confirmed by Sticker {confirmed}", highlight=False)
        for item in tenant.get("needs_attention", []):
            console.print(Text("needs attention", style="bold yellow") + Text(
                f" ({item['scope']} {item['kind']} {item['key']}, since "
                f"{item['since']:%Y-%m-%d %H:%M}): {item['message']}"), soft_wrap=True)
        _render_loyalty(tenant, console)
    _render_webhooks(data.get("webhooks"), console)
    for workspace, senders in sorted((data.get("senders") or {}).items()):
        console.print(f"sending to {workspace} now: {', '.join(senders)} (each at "
                      f"1/{len(senders)} of the rate cap)", highlight=False)


def _render_leases(sources: list[dict[str, Any]], console: Console) -> None:
    for s in sources:
        if s["lease"]:
            console.print(f"{s['source']}: held by {s['lease']['holder']} (generation "
                          f"{s['lease']['generation']}, until "
                          f"{s['lease']['expires_at']:%H:%M:%S} UTC)", highlight=False)


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "none"


def _render_loyalty(tenant: dict[str, Any], console: Console) -> None:
    passes = tenant.get("passes")
    if passes is not None:
        last = passes["last_run"]
        console.print(f"wallet passes: {_counts(passes['counts'])}" + (
            f"; last step {last['started_at']:%Y-%m-%d %H:%M} {last['outcome']}"
            if last else "") + " (sticky-sync passes export)", highlight=False)
    loyalty = tenant.get("loyalty") or {}
    if loyalty.get("tiers"):
        console.print(f"tiers reported by Sticky: {_counts(loyalty['tiers'])} "
                      "(sticky-sync loyalty export)", highlight=False)
    if loyalty.get("tier_write_backs"):
        console.print(f"tier tags written back: {_counts(loyalty['tier_write_backs'])}",
                      highlight=False)


def _render_webhooks(hooks: dict[str, Any] | None, console: Console) -> None:
    if not hooks or (not hooks["subscriptions"] and not hooks["inbox"]["received"]):
        return
    for sub in hooks["subscriptions"]:
        console.print(f"webhooks {sub['workspace']}: {sub['subscription_id']} → {sub['url']} "
                      f"({', '.join(sub['events'])})", highlight=False)
    inbox = dict(hooks["inbox"])
    received = inbox.pop("received")
    deliveries = inbox.pop("deliveries")
    last = hooks["last_received_at"]
    console.print(f"webhook events: {received} received ({deliveries} deliveries); "
                  f"{_counts(inbox)}" + (f"; last at {last:%Y-%m-%d %H:%M:%S}" if last
                                          else ""), highlight=False)
