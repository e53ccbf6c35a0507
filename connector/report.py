"""Rendering a pass's summary as tables (rich) for people, or as JSON for machines."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from connector.delivery.traffic import Traffic
from connector.outcomes import Outcome, PayloadOutcome
from connector.sync.dry_run import DryRun
from connector.sync.orchestrator import PassReport, SourceOutcome
from connector.sync.organizations import OrganizationOutcome
from connector.sync.pass_rule import origins_line
from connector.sync.summary import RunSummary
from state import Disposition


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
        (Disposition.SKIPPED, lambda o: sum(o.summary.skipped.values())),
        (Disposition.REJECTED, lambda o: sum(o.summary.rejected.values())),
        (Disposition.QUARANTINED, lambda o: sum(o.summary.quarantined.values())),
        ("seconds", lambda o: f"{o.summary.duration:.2f}"),
    ]
    for label, value in rows:
        head.add_row(label, *(str(value(o)) for o in report.outcomes))
    console.print(head)

    if total.events_sent:
        console.print("events sent by type: " + ", ".join(
            f"{kind} {n}" for kind, n in sorted(total.events_sent.items())))
    render_reasons(total, console)
    render_targets(total, None, console, "payloads by target and workspace")

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
    for p in report.passes:
        console.print(f"wallet passes {p.tenant}: {p.status}, minted {p.minted}, re-minted "
                      f"{p.reminted}, refused {p.rejected}" + (f" ({p.error})" if p.error
                                                               else ""), highlight=False)
    if total.customers_erased or total.erased_rows_removed:
        console.print(f"customers erased at the source: {total.customers_erased} (never "
                      "sent; what the connector held about them purged); rows removed "
                      f"from kept files: {total.erased_rows_removed}", highlight=False,
                      soft_wrap=True)
    origins = origins_line(total.customer_origins)
    if origins:
        console.print(origins, highlight=False, soft_wrap=True)
    render_attention(total, console)
    outcome = report.outcome
    console.print(Text("outcome: ") + Text(outcome, style=_STYLE.get(outcome, "bold"))
                  + Text(f" (exit code {int(report.exit_code)}), duration "
                         f"{total.duration:.2f}s"), soft_wrap=True)


_STYLE = {Outcome.OK: "bold green", Outcome.NEEDS_ATTENTION: "bold yellow",
          Outcome.FAILED: "bold red", Outcome.BUSY: "bold yellow"}


def render_attention(total: RunSummary, console: Console) -> None:
    """What a person should look at: quarantined and rejected records (by reason, in the
    table above), items that are not records, notes, and why a source failed."""
    quarantined, rejected = sum(total.quarantined.values()), sum(total.rejected.values())
    if quarantined or rejected:
        console.print(Text("needs attention: ", style="bold yellow") + Text(
            f"{quarantined} record(s) quarantined, {rejected} rejected (see the reasons "
            "above; `sticky-sync dlq list` and the rejected/ reports)"), soft_wrap=True)
    for line in total.attention:
        console.print(Text("needs attention: ", style="bold yellow") + Text(line),
                      soft_wrap=True)
    for line in total.notes:
        console.print(Text("note: ", style="bold yellow") + Text(line), soft_wrap=True)
    for line in total.waiting:
        console.print(Text("waiting: ", style="bold cyan") + Text(line), soft_wrap=True)
    for line in total.aborted:
        console.print(Text("failed: ", style="bold red") + Text(line), soft_wrap=True)


def render_reasons(total: RunSummary, console: Console,
                   title: str = "not delivered, by reason") -> None:
    reasons = Table(title=title)
    for column in ("outcome", "reason", "records"):
        reasons.add_column(column, justify="right" if column == "records" else "left")
    for outcome, counter in ((Disposition.SKIPPED, total.skipped),
                             (Disposition.REJECTED, total.rejected),
                             (Disposition.QUARANTINED, total.quarantined),
                             ("warning", total.warnings)):
        for reason, count in sorted(counter.items()):
            reasons.add_row(outcome, reason, str(count))
    if reasons.row_count:
        console.print(reasons)


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
    _organization_notes(report.organizations, "needs attention", console)


def _organization_notes(outcomes: Sequence[OrganizationOutcome], label: str,
                        console: Console) -> None:
    for o in outcomes:
        if o.error:
            console.print(Text(o.tenant, style="yellow") + Text(f": {o.error}"),
                          soft_wrap=True)
        for line in o.attention:
            console.print(Text(label, style="bold yellow") + Text(f" {o.tenant}: {line}"),
                          soft_wrap=True)


TARGET_COLUMNS = tuple(PayloadOutcome)


def dry_run_json(dry: DryRun) -> dict[str, Any]:
    """``--dry-run --json``: the pass as ``run --json`` shows it (its ``total.targets``
    counts payloads by target/workspace and outcome), plus the requests it would send,
    sample payloads (masked) and what a dry run cannot know."""
    report = dry.report
    return {
        "dry_run": True,
        "exit_code": int(report.exit_code),
        "sources": [{"tenant": o.tenant, "source": o.source, "status": o.status,
                     "error": o.error, **o.summary.as_dict()} for o in report.outcomes],
        "organizations": [{k: v for k, v in o.as_dict().items() if k != "organization_id"}
                          for o in report.organizations],
        "total": report.total.as_dict(),
        "requests": dict(dry.requests),
        "samples": dry.samples.as_list(),
        "state_copy": {"rows": dict(dry.snapshot.rows),
                       "seconds": round(dry.snapshot.seconds, 3)},
        "notes": list(dry.notes),
    }


def render_dry_run(dry: DryRun, console: Console) -> None:
    report = dry.report
    total = report.total
    console.print(Text("dry run", style="bold yellow")
                  + Text(": nothing was sent, nothing was kept"))
    _dry_sources(report, console)
    _dry_targets(dry, console)
    render_reasons(total, console, title="records not delivered, by reason")
    if report.organizations:
        _dry_organizations(report, console)
    for group in dry.samples.as_list():
        shown = len(group["payloads"])
        console.print(Text(f"sample {group['kind']}", style="bold") + Text(
            f" to {group['target']} {group['workspace']} ({shown} of "
            f"{group['would_send']}, masked)"))
        for payload in group["payloads"]:
            console.print_json(json.dumps(payload))
    render_attention(total, console)
    for note in dry.notes:
        console.print(Text(note, style="dim"), soft_wrap=True)
    console.print(f"duration {total.duration:.2f}s (state copied in "
                  f"{dry.snapshot.seconds:.2f}s), exit code {int(report.exit_code)}")


def _dry_sources(report: PassReport, console: Console) -> None:
    sources = Table(title="sources read")
    for column in ("source", "status", "records read", "stores", "skipped", "rejected",
                   "quarantined"):
        sources.add_column(column, justify="left" if column in ("source", "status")
                           else "right")
    for o in report.outcomes:
        sources.add_row(f"{o.tenant}/{o.source}", o.status, str(o.summary.records_read),
                        str(o.summary.locations_recorded), str(sum(o.summary.skipped.values())),
                        str(sum(o.summary.rejected.values())),
                        str(sum(o.summary.quarantined.values())))
    console.print(sources)
    for o in report.outcomes:
        if o.error:
            console.print(Text(f"{o.tenant}/{o.source}", style="bold red")
                          + Text(f": {o.error}"), soft_wrap=True)


def _dry_targets(dry: DryRun, console: Console) -> None:
    if not render_targets(dry.report.total, dry.requests, console,
                          "payloads a run would send, by target and workspace"):
        console.print("nothing to send")


def render_targets(total: RunSummary, requests: dict[str, int] | None, console: Console,
                   title: str) -> bool:
    """Payloads by target and workspace (new, changed, unchanged...) and, when given, the
    requests per lane; False when there is nothing to show."""
    targets = Table(title=title)
    targets.add_column("target / workspace", no_wrap=True)
    for column in (*TARGET_COLUMNS, *(("requests",) if requests is not None else ())):
        targets.add_column(column, justify="right")
    for (target, workspace), counts in sorted(total.targets.items()):
        lane = workspace if target == "sticky" else target
        cells = [str(counts.get(c, 0)) for c in TARGET_COLUMNS]
        if requests is not None:
            cells.append(str(requests.get(lane, 0) if workspace != "-" else 0))
        targets.add_row(f"{target}/{workspace}" if workspace != "-"
                        else f"{target} (no payload)", *cells)
    if targets.row_count:
        console.print(targets)
    return bool(targets.row_count)


def _dry_organizations(report: PassReport, console: Console) -> None:
    orgs = Table(title="Sticker organizations")
    for column in ("tenant", "internalOrgId", "would be", "setups to send", "stores known",
                   "needs attention"):
        orgs.add_column(column)
    for org in report.organizations:
        orgs.add_row(org.tenant, org.internal_org_id, org.status, str(org.requests),
                     str(org.locations_known), str(len(org.attention)))
    console.print(orgs)
    _organization_notes(report.organizations, "would need attention", console)
