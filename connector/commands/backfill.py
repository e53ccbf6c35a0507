"""``sticky-sync backfill``: one source's date range, through the same ledger as runs."""

from __future__ import annotations

import json
from datetime import date

from rich.console import Console

from connector.config import Settings
from connector.report import render_pass
from connector.sync.orchestrator import ExitCode, run_backfill, sticky_client
from state import StateStore


async def backfill_command(settings: Settings, *, source: str, since: date, until: date,
                           json_out: bool, console: Console) -> ExitCode:
    store = StateStore.open(settings.state.url)
    try:
        async with sticky_client(settings) as sticky:
            report = await run_backfill(settings, store, sticky, source_name=source,
                                        since=since, until=until)
    finally:
        store.close()
    if json_out:
        console.print_json(json.dumps({
            "exit_code": int(report.exit_code),
            "sources": [{"tenant": o.tenant, "source": o.source, "status": o.status,
                         "error": o.error, **o.summary.as_dict()} for o in report.outcomes],
            "total": report.total.as_dict(sticky.traffic)}))
    else:
        render_pass(report, sticky.traffic, console)
    return report.exit_code
