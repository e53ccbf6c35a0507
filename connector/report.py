"""Rendering a pass's summary as tables (rich) for people, or as JSON for machines."""

from __future__ import annotations

from collections.abc import Callable

from rich.console import Console
from rich.table import Table

from connector.delivery.traffic import Traffic
from connector.sync.orchestrator import PassReport, SourceOutcome
from connector.sync.organizations import OrganizationOutcome


def render_pass(report: PassReport, traffic: Traffic, console: Console) -> None:
    total = report.total
    head = Table(title="sticky-sync run summary")
    head.add_column("")
    for o in report.outcomes:
        head.add_column(f"{o.tenant}/{o.source}", justify="right")
    rows: list[tuple[str, Callable[[SourceOutcome], object]]] = [
        ("status", lambda o: o.status),
        ("records read", lambda o: o.summary.records_read),
        ("customers created", lambda o: o.summary.customers_created),
        ("customers updated", lambda o: o.summary.customers_updated),
        ("customers unchanged", lambda o: o.summary.customers_unchanged),
        ("events sent", lambda o: sum(o.summary.events_sent.values())),
        ("events already sent", lambda o: o.summary.events_unchanged),
        ("stores recorded", lambda o: o.summary.locations_recorded),
        ("skipped", lambda o: sum(o.summary.skipped.values())),
        ("rejected", lambda o: sum(o.summary.rejected.values())),
        ("quarantined", lambda o: sum(o.summary.quarantined.values())),
        ("seconds", lambda o: f"{o.summary.duration:.2f}"),
    ]
    for label, value in rows:
        head.add_row(label, *(str(value(o)) for o in report.outcomes))
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
    wire.add_column("workspace", no_wrap=True)
    for column in ("requests", "req/s", "429", "5xx", "net err", "wait s"):
        wire.add_column(column, justify="right")
    for workspace, t in sorted(traffic.by_workspace.items()):
        wire.add_row(workspace, str(t.requests), f"{t.requests_per_second:.1f}",
                     str(t.rate_limited), str(t.server_errors), str(t.network_errors),
                     f"{t.limiter_wait_seconds:.1f}")
    if wire.row_count:
        console.print(wire)
    if report.organizations:
        render_organizations(report, console)
    for line in total.aborted:
        console.print(f"[bold red]aborted[/]: {line}")
    console.print(f"duration {total.duration:.2f}s, exit code {int(report.exit_code)}")


def render_organizations(report: PassReport, console: Console) -> None:
    orgs = Table(title="Sticker organizations")
    orgs.add_column("")
    for o in report.organizations:
        orgs.add_column(f"{o.tenant} ({o.internal_org_id})", justify="right")
    rows: list[tuple[str, Callable[[OrganizationOutcome], object]]] = [
        ("status", lambda o: o.status),
        ("Sticker id", lambda o: o.organization_id or "-"),
        ("profiles added", lambda o: len(o.profiles_added)),
        ("profiles already there", lambda o: len(o.profiles_existing)),
        ("stores known", lambda o: o.locations_known),
        ("stores confirmed by Sticker",
         lambda o: "unknown" if o.locations_confirmed is None else o.locations_confirmed),
        ("needs attention", lambda o: len(o.attention)),
        ("requests", lambda o: o.requests),
    ]
    for label, value in rows:
        orgs.add_row(label, *(str(value(o)) for o in report.organizations))
    console.print(orgs)
    for o in report.organizations:
        if o.error:
            console.print(f"[yellow]{o.tenant}[/]: {o.error}", soft_wrap=True)
        for line in o.attention:
            console.print(f"[bold yellow]needs attention[/] {o.tenant}: {line}",
                          soft_wrap=True)
