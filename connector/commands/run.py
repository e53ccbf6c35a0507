"""``sticky-sync run``: one pass, a summary, an exit code (``--dry-run``: what the pass
would send, with nothing sent and nothing kept)."""

from __future__ import annotations

import json

from rich.console import Console

from connector.config import Settings
from connector.report import dry_run_json, render_dry_run, render_pass
from connector.sync.dry_run import dry_run_pass
from connector.sync.orchestrator import ExitCode, run_pass, sticker_client, sticky_client
from state import StateStore


async def run_command(settings: Settings, *, source: str | None, json_out: bool,
                      console: Console, trigger: str = "manual",
                      due_only: bool = False, dry_run: bool = False) -> ExitCode:
    if dry_run:
        dry = await dry_run_pass(settings, only_source=source, due_only=due_only,
                                 trigger="cron" if due_only else trigger)
        if json_out:
            console.print_json(json.dumps(dry_run_json(dry)))
        else:
            render_dry_run(dry, console)
        return dry.exit_code
    store = StateStore.open(settings.state.url)
    sticker = sticker_client(settings)
    try:
        async with sticky_client(settings) as sticky:
            report = await run_pass(settings, store, sticky, sticker=sticker,
                                    only_source=source,
                                    trigger="cron" if due_only else trigger,
                                    due_only=due_only)
    finally:
        if sticker is not None:
            await sticker.aclose()
        store.close()
    if json_out:
        console.print_json(json.dumps({
            "exit_code": int(report.exit_code),
            "sources": [{"tenant": o.tenant, "source": o.source, "status": o.status,
                         "error": o.error, **o.summary.as_dict()} for o in report.outcomes],
            "organizations": [o.as_dict() for o in report.organizations],
            "passes": [{"tenant": p.tenant, "status": p.status, "error": p.error,
                        **p.as_dict()} for p in report.passes],
            "total": report.total.as_dict(sticky.traffic),
        }))
    else:
        render_pass(report, sticky.traffic, console)
    return report.exit_code
