"""``sticky-sync backfill``: one source's date range, through the same ledger as runs,
with its progress on ``progress_console`` (a bar on a terminal, log lines otherwise);
``--dry-run``: what it would send, with nothing sent and nothing kept."""

from __future__ import annotations

import json
from datetime import date

from rich.console import Console

from connector.config import Settings
from connector.outcomes import ExitCode
from connector.progress import BackfillProgress
from connector.report import dry_run_json, render_dry_run, render_pass
from connector.sync.dry_run import dry_run_backfill
from connector.sync.orchestrator import run_backfill, sticky_client


async def backfill_command(settings: Settings, *, source: str, since: date, until: date,
                           json_out: bool, console: Console, dry_run: bool = False,
                           progress_console: Console | None = None) -> ExitCode:
    progress = BackfillProgress(
        rate_limit_per_second=settings.sticky.rate_limit_per_second,
        console=progress_console or Console(stderr=True),
        description=f"backfill {source}" + (" (dry run)" if dry_run else ""))
    if dry_run:
        with progress:
            dry = await dry_run_backfill(settings, source_name=source, since=since,
                                         until=until, on_batch=progress)
        if json_out:
            console.print_json(json.dumps(dry_run_json(dry)))
        else:
            render_dry_run(dry, console)
        return dry.exit_code
    store = settings.state.open()
    try:
        async with sticky_client(settings, store) as sticky:
            with progress:
                report = await run_backfill(settings, store, sticky, source_name=source,
                                            since=since, until=until, on_batch=progress)
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
