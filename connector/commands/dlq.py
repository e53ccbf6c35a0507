"""``sticky-sync dlq``: the quarantine (records valid but not delivered), listed, shown,
replayed or discarded. Nothing here prints a phone number or e-mail in clear unless
``show --reveal`` is asked for."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from rich.console import Console
from rich.table import Table

from connector.config import Settings
from connector.errors import ConfigurationError
from connector.outcomes import ExitCode
from connector.redact import scrub
from connector.report import render_pass
from connector.sync.orchestrator import run_replay, sticky_client
from state import Disposition, StateStore, StoredIssue


def issue_summary(issue: StoredIssue) -> dict[str, Any]:
    return {
        "id": issue.id, "tenant": issue.tenant, "source": issue.source,
        "record": f"{issue.record_kind or '?'} {issue.record_id or '-'}",
        "locator": issue.locator, "reason": issue.reason, "field": issue.field,
        "attempts": issue.attempts, "next_auto_retry": issue.next_retry_at,
        "updated_at": issue.updated_at, "resolution": issue.resolution,
        "message": scrub(issue.message),
    }


def list_quarantine(settings: Settings, *, source: str | None, reason: str | None,
                    include_resolved: bool, limit: int,
                    disposition: str = Disposition.QUARANTINED) -> list[StoredIssue]:
    store = settings.state.open()
    try:
        return store.issues.find(source=source, reason=reason, dispositions=(disposition,),
                                 include_resolved=include_resolved, limit=limit)
    finally:
        store.close()


def render_list(issues: Sequence[StoredIssue], console: Console) -> None:
    if not issues:
        console.print("nothing listed")
        return
    kinds = sorted({i.disposition for i in issues})
    table = Table(title=f"{' / '.join(kinds)} records ({len(issues)})")
    for column in ("id", "source", "record", "reason", "field", "tries", "next retry",
                   "message"):
        table.add_column(column, overflow="fold")
    for issue in issues:
        data = issue_summary(issue)
        table.add_row(str(data["id"]), f"{issue.tenant}/{issue.source}", data["record"],
                      issue.reason, issue.field or "-", str(issue.attempts),
                      _when(issue.next_retry_at) if issue.resolved_at is None
                      else issue.resolution or "resolved", data["message"])
    console.print(table)


def show_issue(settings: Settings, issue_id: int, *, reveal: bool) -> dict[str, Any]:
    store = settings.state.open()
    try:
        issue = store.issues.get(issue_id)
    finally:
        store.close()
    if issue is None:
        raise ConfigurationError(f"dlq show {issue_id}: no record issue has this id")
    data = {**issue_summary(issue), "disposition": issue.disposition,
            "stream": issue.stream, "row": issue.row,
            "created_at": issue.created_at, "resolved_at": issue.resolved_at,
            "message": issue.message if reveal else scrub(issue.message),
            "raw": issue.raw, "stored_record": issue.record}
    if not reveal:
        data["raw"] = json.loads(scrub(json.dumps(issue.raw, default=str)))
        data["stored_record"] = json.loads(scrub(json.dumps(issue.record, default=str)))
    return data


def select_issues(store: StateStore, *, ids: Sequence[int], all_open: bool,
                  reason: str | None, source: str | None) -> list[StoredIssue]:
    """The open quarantined records named by ids, or by --all / --reason / --source."""
    if not ids and not all_open and reason is None and source is None:
        raise ConfigurationError(
            "name the records: ids, --all, --reason REASON or --source SOURCE")
    found = store.issues.find(ids=list(ids) or None, reason=reason, source=source)
    missing = sorted(set(ids) - {i.id for i in found})
    if missing:
        raise ConfigurationError(
            f"not in the quarantine (unknown, resolved, or not quarantined): {missing}")
    return found


async def retry_command(settings: Settings, *, ids: Sequence[int], all_open: bool,
                        reason: str | None, source: str | None, json_out: bool,
                        console: Console) -> ExitCode:
    store = settings.state.open()
    try:
        issues = select_issues(store, ids=ids, all_open=all_open, reason=reason,
                               source=source)
        if not issues:
            console.print("nothing to retry: no open quarantined record matches")
            return ExitCode.OK
        async with sticky_client(settings, store) as sticky:
            report = await run_replay(settings, store, sticky, issues)
        left = store.issues.find(ids=[i.id for i in issues])
    finally:
        store.close()
    if json_out:
        console.print_json(json.dumps({
            "exit_code": int(report.exit_code), "retried": len(issues),
            "delivered": len(issues) - len(left), "still_quarantined": [i.id for i in left],
            "total": report.total.as_dict(sticky.traffic)}, default=str))
    else:
        render_pass(report, sticky.traffic, console)
        console.print(f"retried {len(issues)}: {len(issues) - len(left)} settled, "
                      f"{len(left)} still quarantined"
                      + (f" ({', '.join(str(i.id) for i in left)})" if left else ""))
    return report.exit_code


def discard_command(settings: Settings, *, ids: Sequence[int], all_open: bool,
                    reason: str | None, source: str | None) -> int:
    store = settings.state.open()
    try:
        issues = select_issues(store, ids=ids, all_open=all_open, reason=reason,
                               source=source)
        return store.issues.discard([i.id for i in issues]) if issues else 0
    finally:
        store.close()


def _when(moment: datetime | None) -> str:
    return "-" if moment is None else f"{moment:%Y-%m-%d %H:%M}Z"
