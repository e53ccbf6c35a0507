"""``sticky-sync run``: one pass, a summary, an exit code (``--dry-run``: what the pass
would send, with nothing sent and nothing kept)."""

from __future__ import annotations

import json
from collections.abc import Sequence

from rich.console import Console

from adapters.csv_drop import CsvDropAdapter
from connector.config import CsvSourceSettings, Settings
from connector.errors import ConfigurationError
from connector.outcomes import ExitCode
from connector.progress import BackfillProgress
from connector.report import dry_run_json, render_dry_run, render_pass
from connector.sync.dry_run import dry_run_pass
from connector.sync.orchestrator import run_pass, sticker_client, sticky_client
from connector.sync.source_state import BoundSourceState
from state import StateStore


def reprocess_files(settings: Settings, store: StateStore, names: Sequence[str],
                    source: str | None) -> str | None:
    """Put each processed or rejected drop file named back to be read again (through the
    ledger: nothing is sent twice); the source they belong to (for ``--source``)."""
    found: set[str] = set()
    for name in names:
        for tenant in settings.tenants:
            for candidate in tenant.sources:
                if not isinstance(candidate, CsvSourceSettings) or (
                        source is not None and candidate.name != source):
                    continue
                drop = CsvDropAdapter(name=candidate.name, drop_dir=candidate.drop_dir,
                                      stable_seconds=candidate.stable_seconds)
                try:
                    moved = drop.reprocess(name, BoundSourceState(store, tenant.id,
                                                                  candidate.name))
                except FileExistsError as exc:
                    raise ConfigurationError(f"--reprocess {name}: {exc}") from exc
                if moved is not None:
                    found.add(candidate.name)
                    break
            else:
                continue
            break
        else:
            raise ConfigurationError(
                f"--reprocess {name}: no such file in the processed/ or rejected/ folder "
                "of " + (f"source {source}" if source else "any CSV source"))
    return found.pop() if len(found) == 1 else source


async def run_command(settings: Settings, *, source: str | None, json_out: bool,
                      console: Console, trigger: str = "manual",
                      due_only: bool = False, dry_run: bool = False,
                      reprocess: Sequence[str] = (),
                      progress_console: Console | None = None) -> ExitCode:
    """``progress_console``: where the live progress goes (default standard error: a
    bar on a terminal, log lines when piped)."""
    if dry_run:
        dry = await dry_run_pass(settings, only_source=source, due_only=due_only,
                                 trigger="cron" if due_only else trigger)
        if json_out:
            console.print_json(json.dumps(dry_run_json(dry)))
        else:
            render_dry_run(dry, console)
        return dry.exit_code
    store = settings.state.open()
    if reprocess:
        try:
            source = reprocess_files(settings, store, reprocess, source)
        except ConfigurationError:
            store.close()
            raise
    sticker = sticker_client(settings)
    progress = BackfillProgress(rate_limit_per_second=settings.sticky.rate_limit_per_second,
                                console=progress_console or Console(stderr=True),
                                description="run")
    try:
        async with sticky_client(settings, store) as sticky:
            with progress:
                report = await run_pass(settings, store, sticky, sticker=sticker,
                                        only_source=source,
                                        trigger="cron" if due_only else trigger,
                                        due_only=due_only, on_batch=progress)
    finally:
        if sticker is not None:
            await sticker.aclose()
        store.close()
    if json_out:
        console.print_json(json.dumps({
            "outcome": report.outcome,
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
