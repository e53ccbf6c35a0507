"""``sticky-sync status``: what the state DB says about each tenant and source."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from connector.config import Settings
from state import StateStore


def collect_status(settings: Settings) -> dict[str, Any]:
    store = StateStore.open(settings.state.url)
    try:
        tenants: list[dict[str, Any]] = []
        for tenant in settings.tenants:
            sources = []
            for source in tenant.sources:
                lease = store.leases.holder(tenant.id, source.name)
                cursors = store.cursors.all_for(tenant.id, source.name)
                sources.append({
                    "source": source.name, "kind": source.kind,
                    "runs": [{"id": r.id, "trigger": r.trigger, "started_at": r.started_at,
                              "finished_at": r.finished_at, "outcome": r.outcome,
                              "error": r.error}
                             for r in store.runs.recent(tenant.id, source.name)],
                    "cursors": len(cursors),
                    "files_done": sum(1 for p in cursors.values() if p.get("done")),
                    "open_issues": store.issues.open_counts(tenant.id, source.name),
                    "lease": None if lease is None else {
                        "holder": lease.holder, "expires_at": lease.expires_at},
                })
            tenants.append({"tenant": tenant.id, "ledger": store.ledger.counts(tenant.id),
                            "customers_known": store.customers.count_identities(tenant.id),
                            "sources": sources})
        return {"tenants": tenants}
    finally:
        store.close()


def render_status(data: dict[str, Any], console: Console) -> None:
    for tenant in data["tenants"]:
        ledger = ", ".join(f"{k} {v}" for k, v in sorted(tenant["ledger"].items())) or "empty"
        console.print(f"[bold]{tenant['tenant']}[/]: ledger {ledger}; "
                      f"{tenant['customers_known']} customer identities")
        table = Table()
        for column in ("source", "last run", "outcome", "files done", "skipped",
                       "rejected", "quarantined", "lease"):
            table.add_column(column)
        for s in tenant["sources"]:
            last = s["runs"][0] if s["runs"] else None
            issues = s["open_issues"]
            table.add_row(
                s["source"], f"{last['started_at']:%Y-%m-%d %H:%M:%S}" if last else "never",
                (last["outcome"] or "running") if last else "-", str(s["files_done"]),
                str(issues.get("skipped", 0)), str(issues.get("rejected", 0)),
                str(issues.get("quarantined", 0)),
                s["lease"]["holder"] if s["lease"] else "-")
        console.print(table)
