"""``sticky-sync runs list|show``: past runs, and one run's full summary again (counts,
reasons, targets, what needed attention, timing), as it was recorded in the ``runs``
table: a cron user who missed the output reads it later (like dlt's ``pipeline trace``)."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from connector.config import Settings
from connector.errors import ConfigurationError
from state import RunRecord


def run_as_dict(run: RunRecord) -> dict[str, Any]:
    duration = None
    if run.finished_at is not None:
        duration = round((run.finished_at - run.started_at).total_seconds(), 3)
    return {"id": run.id, "tenant": run.tenant, "source": run.source,
            "trigger": run.trigger, "started_at": run.started_at.isoformat(),
            "finished_at": run.finished_at.isoformat() if run.finished_at else None,
            "seconds": duration, "outcome": run.outcome or "running or killed",
            "error": run.error, "counts": run.counts or {}}


def list_runs(settings: Settings, *, source: str | None, limit: int) -> list[dict[str, Any]]:
    store = settings.state.open()
    try:
        return [run_as_dict(r) for r in store.runs.latest(limit, source=source)]
    finally:
        store.close()


def show_run(settings: Settings, run_id: int) -> dict[str, Any]:
    store = settings.state.open()
    try:
        run = store.runs.get(run_id)
    finally:
        store.close()
    if run is None:
        raise ConfigurationError(f"runs show {run_id}: no run has this id "
                                 "(`sticky-sync runs list` shows them)")
    return run_as_dict(run)


def render_runs(runs: list[dict[str, Any]], console: Console) -> None:
    table = Table(title="runs, newest first")
    for column in ("id", "tenant/source", "trigger", "started (UTC)", "seconds", "outcome",
                   "read", "error"):
        table.add_column(column)
    for r in runs:
        counts = r["counts"]
        table.add_row(str(r["id"]), f"{r['tenant']}/{r['source']}", r["trigger"],
                      r["started_at"][:19].replace("T", " "),
                      "-" if r["seconds"] is None else f"{r['seconds']:.1f}", r["outcome"],
                      str(counts.get("records_read", "-")), r["error"] or "")
    console.print(table)


def render_run(run: dict[str, Any], console: Console) -> None:
    """One run's recorded summary, as the run printed it (the numbers it kept)."""
    counts: dict[str, Any] = run["counts"]
    console.print(Text(f"run {run['id']}: {run['tenant']}/{run['source']} "
                       f"({run['trigger']}), started {run['started_at']}, "
                       + (f"{run['seconds']:.2f} s" if run["seconds"] is not None
                          else "not finished")), soft_wrap=True)
    table = Table(title="counts")
    table.add_column("")
    table.add_column("value", justify="right")
    for key in ("records_read", "customers_created", "customers_updated",
                "customers_unchanged", "events_unchanged", "locations_recorded",
                "duration_seconds", "minted", "reminted", "requests"):
        if key in counts:
            table.add_row(key.replace("_", " "), str(counts[key]))
    for kind, n in sorted((counts.get("events_sent") or {}).items()):
        table.add_row(f"events sent: {kind}", str(n))
    console.print(table)
    _render_reasons_and_targets(counts, console)
    for key, label in (("attention", "needs attention"), ("notes", "note"),
                       ("waiting", "waiting"), ("aborted", "failed")):
        for line in counts.get(key) or []:
            console.print(Text(f"{label}: ", style="bold yellow") + Text(str(line)),
                          soft_wrap=True)
    for store_id, n in sorted((counts.get("unmapped_stores") or {}).items()):
        console.print(Text("unmapped store: ", style="bold yellow")
                      + Text(f"{store_id!r}, {n} record(s)"), soft_wrap=True)
    if run["error"]:
        console.print(Text("error: ", style="bold red") + Text(run["error"]), soft_wrap=True)
    console.print(Text("outcome: ") + Text(run["outcome"], style="bold"))


def _render_reasons_and_targets(counts: dict[str, Any], console: Console) -> None:
    reasons = Table(title="not delivered, by reason")
    for column in ("outcome", "reason", "records"):
        reasons.add_column(column)
    for outcome in ("skipped", "rejected", "quarantined", "warnings"):
        for reason, n in sorted((counts.get(outcome) or {}).items()):
            reasons.add_row(outcome, reason, str(n))
    if reasons.row_count:
        console.print(reasons)
    targets = counts.get("targets") or {}
    if targets:
        table = Table(title="payloads by target and workspace")
        table.add_column("target/workspace")
        table.add_column("payloads")
        for where, by in sorted(targets.items()):
            table.add_row(where, ", ".join(f"{k} {v}" for k, v in sorted(by.items())))
        console.print(table)
