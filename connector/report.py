"""Rendering a pass's summary as tables (rich) for people, or as JSON for machines."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from connector.delivery.traffic import Traffic
from connector.sync.orchestrator import PassReport


def render_pass(report: PassReport, traffic: Traffic, console: Console) -> None:
    total = report.total
    head = Table(title="sticky-sync run summary", show_lines=False)
    for column in ("tenant/source", "status", "read", "customers created", "updated",
                   "unchanged", "events sent", "already sent", "skipped", "rejected",
                   "quarantined", "seconds"):
        head.add_column(column, justify="left" if column in {"tenant/source", "status"}
                        else "right")
    for o in report.outcomes:
        s = o.summary
        head.add_row(f"{o.tenant}/{o.source}", o.status, str(s.records_read),
                     str(s.customers_created), str(s.customers_updated),
                     str(s.customers_unchanged), str(sum(s.events_sent.values())),
                     str(s.events_unchanged), str(sum(s.skipped.values())),
                     str(sum(s.rejected.values())), str(sum(s.quarantined.values())),
                     f"{s.duration:.2f}")
    console.print(head)

    if total.events_sent:
        console.print("events sent by type: " + ", ".join(
            f"{kind} {n}" for kind, n in sorted(total.events_sent.items())))
    reasons = Table(title="not delivered, by reason")
    for column in ("outcome", "reason", "records"):
        reasons.add_column(column, justify="right" if column == "records" else "left")
    for outcome, counter in (("skipped", total.skipped), ("rejected", total.rejected),
                             ("quarantined", total.quarantined), ("warning", total.warnings)):
        for reason, count in sorted(counter.items()):
            reasons.add_row(outcome, reason, str(count))
    if reasons.row_count:
        console.print(reasons)

    wire = Table(title="requests per workspace")
    for column in ("workspace", "requests", "req/s", "429s", "5xx", "network errors",
                   "limiter wait s"):
        wire.add_column(column, justify="left" if column == "workspace" else "right")
    for workspace, t in sorted(traffic.by_workspace.items()):
        wire.add_row(workspace, str(t.requests), f"{t.requests_per_second:.1f}",
                     str(t.rate_limited), str(t.server_errors), str(t.network_errors),
                     f"{t.limiter_wait_seconds:.1f}")
    if wire.row_count:
        console.print(wire)
    for line in total.aborted:
        console.print(f"[bold red]aborted[/]: {line}")
    console.print(f"duration {total.duration:.2f}s, exit code {int(report.exit_code)}")
