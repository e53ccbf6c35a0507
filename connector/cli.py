"""The ``sticky-sync`` command line: parses options, wires the layers, maps outcomes to
exit codes. No business logic lives here."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from importlib.metadata import version
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.text import Text
from sqlalchemy.exc import SQLAlchemyError
from typer._click.core import Context as ClickContext  # typer vendors click
from typer.core import TyperGroup

from connector import runtime
from connector.commands.backfill import backfill_command
from connector.commands.check import check_command
from connector.commands.config_show import effective_config, render_config
from connector.commands.daemon import daemon_command
from connector.commands.demo import demo_command
from connector.commands.discover import discover_command
from connector.commands.dlq import (
    discard_command,
    issue_summary,
    list_quarantine,
    render_list,
    retry_command,
    show_issue,
)
from connector.commands.erasures import (
    list_erasures,
    mark_done,
    release_phone,
    render_erasures,
)
from connector.commands.passes import csv_text, export_rows, mint_command
from connector.commands.run import run_command
from connector.commands.runs import list_runs, render_run, render_runs, show_run
from connector.commands.status import collect_status, render_status
from connector.commands.webhooks import (
    loyalty_csv,
    loyalty_rows,
    process_command,
    subscribe_command,
)
from connector.config import Settings, load_settings
from connector.errors import ConfigurationError, StateUnavailable
from connector.files import write_private
from connector.logs import configure_logging
from connector.outcomes import ExitCode
from sandbox import Faults, SandboxConfig, serve
from sandbox.faults import FaultError
from state import StateStore
from state.failures import describe as describe_state_failure


class _Commands(TyperGroup):
    """Every command: a state DB that cannot be used is one clear line and exit 5 (a
    local problem, said as such), never a traceback."""

    def invoke(self, ctx: ClickContext) -> Any:
        try:
            return super().invoke(ctx)
        except StateUnavailable as exc:
            _error("state DB unavailable", exc)
            raise typer.Exit(int(ExitCode.STATE_UNAVAILABLE)) from exc
        except SQLAlchemyError as exc:  # met outside a step that names it already
            _error("state DB unavailable", describe_state_failure(
                exc, StateStore.last_url or "(state.url)", StateStore.last_busy_timeout))
            raise typer.Exit(int(ExitCode.STATE_UNAVAILABLE)) from exc


app = typer.Typer(cls=_Commands, no_args_is_help=True, rich_markup_mode=None,
                  pretty_exceptions_enable=False,
                  help="Sync a retailer's POS and e-commerce data into Sticky.")
# markup off: data, exception messages and config names such as [tenants.passes] are
# printed as they are written (styles are given as Text styles, never in the text)
console = Console(markup=False, emoji=False)
err_console = Console(stderr=True, markup=False, emoji=False)


def _error(label: str, text: object) -> None:
    err_console.print(Text(label, style="bold red") + Text(f": {text}"), soft_wrap=True)

ConfigOption = Annotated[Path | None, typer.Option(
    "--config", "-c", help="TOML config file (default: $STICKY_SYNC_CONFIG)")]


@contextmanager
def _refused(label: str) -> Iterator[None]:
    """A ConfigurationError (a bad config, a bad selection) printed as ``label: ...``
    and exit code 2."""
    try:
        yield
    except ConfigurationError as exc:
        _error(label, exc)
        raise typer.Exit(int(ExitCode.CONFIG_ERROR)) from exc


def _settings(config: Path | None) -> Settings:
    with _refused("configuration error"):
        settings = load_settings(config)
    configure_logging(settings.log_level, settings.log_format)
    return settings


@app.command()
def run(config: ConfigOption = None,
        once: Annotated[bool, typer.Option(
            "--once", help="only the sources whose schedule is due, then exit (what cron "
            "calls every few minutes); without it every source runs now")] = False,
        source: Annotated[str | None, typer.Option(help="only this source")] = None,
        json_out: Annotated[bool, typer.Option("--json", help="summary as JSON")] = False,
        dry_run: Annotated[bool, typer.Option(
            "--dry-run", help="read the sources and report what would be sent (counts "
            "and masked samples); send nothing, change neither the state DB nor the "
            "source files")] = False,
        reprocess: Annotated[list[str] | None, typer.Option(
            "--reprocess", metavar="FILE", help="read a drop file again (from processed/ "
            "or rejected/, e.g. after a columns fix), through the ledger so nothing is "
            "sent twice; repeatable")] = None,
        ) -> None:
    """Run one pass over every configured source (or --source; with --once only the due
    ones) and print a summary.

    Exit codes: 0 ok, 1 needs attention (records quarantined or rejected, a file
    rejected whole, unmapped stores, a note), 2 configuration error, 3 another run holds
    a source, 4 failed (a target or a source unavailable, or credentials refused; the
    next run resumes), 5 the state DB cannot be used (locked, full disk, damaged, newer,
    unreachable; nothing is lost).
    """
    settings = _settings(config)
    with _refused("configuration error"):
        code = runtime.run(run_command(settings, source=source, json_out=json_out,
                                       console=console, due_only=once, dry_run=dry_run,
                                       reprocess=reprocess or ()))
    raise typer.Exit(int(code))


@app.command()
def daemon(config: ConfigOption = None) -> None:
    """Run every source on its `schedule` until SIGTERM/SIGINT, serving /healthz and
    /metrics on [daemon] host:port. On a signal, running passes settle what they have
    read (up to [daemon] drain_seconds; a second signal cancels them at once), then the
    daemon exits 0. Exit 2 on a configuration error (a port in use included).
    """
    settings = _settings(config)
    with _refused("configuration error"):
        code = runtime.run(daemon_command(settings))
    raise typer.Exit(int(code))


@app.command()
def backfill(source: Annotated[str, typer.Option(help="the source to backfill")],
             since: Annotated[datetime, typer.Option(
                 formats=["%Y-%m-%d"], help="first day (inclusive), YYYY-MM-DD")],
             until: Annotated[datetime | None, typer.Option(
                 formats=["%Y-%m-%d"], help="end day (exclusive); default tomorrow")] = None,
             config: ConfigOption = None,
             json_out: Annotated[bool, typer.Option("--json", help="summary as JSON")] = False,
             dry_run: Annotated[bool, typer.Option(
                 "--dry-run", help="read the range and report what would be sent; send "
                 "nothing, keep nothing (the backfill's cursor included)")] = False,
             ) -> None:
    """Read one source's orders of a date range (Shopify: bulk operations) and deliver
    what is not delivered yet; resumable after a kill; the incremental cursor is untouched.
    Progress goes to stderr: a bar on a terminal, a log line every few seconds otherwise.
    """
    settings = _settings(config)
    end = until.date() if until is not None else (
        datetime.now(UTC).date() + timedelta(days=1))
    with _refused("configuration error"):
        code = runtime.run(backfill_command(settings, source=source, since=since.date(),
                                            until=end, json_out=json_out, console=console,
                                            dry_run=dry_run, progress_console=err_console))
    raise typer.Exit(int(code))


@app.command()
def check(config: ConfigOption = None) -> None:
    """Validate the configuration, then contact everything it names and send nothing:
    the state DB, every source (credentials, one page of each stream, the fields on it;
    Shopify scopes and API version; the drop folders), each Sticky workspace and its
    webhook subscription.

    Exit codes: 0 everything checked out, 2 a fix is needed in the configuration (a key,
    an environment variable, a folder), 4 a source or target is unreachable or refuses.
    """
    settings = _settings(config)
    raise typer.Exit(int(runtime.run(check_command(settings, console))))


@app.command()
def discover(source: Annotated[str, typer.Option(help="the source to ask")],
             config: ConfigOption = None,
             json_out: Annotated[bool, typer.Option("--json", help="as JSON")] = False,
             ) -> None:
    """List the stores a source reports (Shopify locations, a POS's stores, the store ids
    in a drop folder's newest files), whether [tenants.workspaces] maps each, and the
    TOML lines to paste for those it does not."""
    settings = _settings(config)
    with _refused("configuration error"):
        code = runtime.run(discover_command(settings, source, console, json_out))
    raise typer.Exit(int(code))


@app.command()
def status(config: ConfigOption = None,
           json_out: Annotated[bool, typer.Option("--json", help="as JSON")] = False) -> None:
    """Per tenant and source: last runs, cursors, pending and quarantined records."""
    settings = _settings(config)
    with _refused("error"):
        data = collect_status(settings)
    if json_out:
        console.print_json(json.dumps(data, default=str))
    else:
        render_status(data, console)


def _version(value: bool) -> None:
    if value:
        console.print(f"sticky-sync {version('sticky-connector')}")
        raise typer.Exit()


@app.callback()
def _main(show_version: Annotated[bool, typer.Option(
        "--version", callback=_version, is_eager=True,
        help="print the version and exit")] = False) -> None:
    """Sync a retailer's POS and e-commerce data into Sticky."""


@app.command("config")
def config_command(config: ConfigOption = None,
                   json_out: Annotated[bool, typer.Option("--json", help="as JSON")] = False,
                   ) -> None:
    """Print the effective configuration: every key, its value (secrets masked) and
    where it came from (the file, the environment, or the default)."""
    settings = _settings(config)
    rows = effective_config(settings, config)
    if json_out:
        console.print_json(json.dumps(rows))
    else:
        render_config(rows, console)


erasures_app = typer.Typer(no_args_is_help=True, rich_markup_mode=None, help=(
    "Sticky customers to erase by hand: their source erased them (docs/privacy.md)."))
app.add_typer(erasures_app, name="erasures")


@erasures_app.command("list")
def erasures_list(config: ConfigOption = None,
                  json_out: Annotated[bool, typer.Option("--json", help="as JSON")] = False,
                  ) -> None:
    """The Sticky customers still to erase: the connector purged what it held, but the
    documented Sticky API has no delete."""
    found = list_erasures(_settings(config))
    if json_out:
        console.print_json(json.dumps(found))
    else:
        render_erasures(found, console)


@erasures_app.command("done")
def erasures_done(customer_ids: Annotated[list[str], typer.Argument(
                      help="Sticky customer ids (cus_...) erased in Sticky")],
                  config: ConfigOption = None) -> None:
    """Mark customers erased in Sticky (each must be owed an erasure)."""
    with _refused("error"):
        closed = mark_done(_settings(config), customer_ids)
    for e in closed:
        console.print(f"erased in Sticky: {e['customer_id']} ({e['tenant']}, "
                      f"{e['workspace']})", highlight=False)


@erasures_app.command("release")
def erasures_release(phone: Annotated[str, typer.Argument(
                         help="the phone, as the source writes it")],
                     config: ConfigOption = None) -> None:
    """Let records with this phone be sent again: the person signed up anew (an erased
    customer's own source id stays blocked)."""
    with _refused("error"):
        tenants = release_phone(_settings(config), phone)
    console.print(f"released in {', '.join(tenants)}: records with this phone are sent "
                  "again", highlight=False)


runs_app = typer.Typer(no_args_is_help=True, rich_markup_mode=None, help=(
    "Past runs, and one run's full summary again (what a cron job printed)."))
app.add_typer(runs_app, name="runs")


@runs_app.command("list")
def runs_list(config: ConfigOption = None,
              source: Annotated[str | None, typer.Option(help="only this source")] = None,
              limit: Annotated[int, typer.Option(help="how many, newest first")] = 20,
              json_out: Annotated[bool, typer.Option("--json", help="as JSON")] = False,
              ) -> None:
    """The newest runs: id, source, trigger, start, duration, outcome, error."""
    settings = _settings(config)
    found = list_runs(settings, source=source, limit=limit)
    if json_out:
        console.print_json(json.dumps(found))
    else:
        render_runs(found, console)


@runs_app.command("show")
def runs_show(run_id: Annotated[int, typer.Argument(help="the id from runs list")],
              config: ConfigOption = None,
              json_out: Annotated[bool, typer.Option("--json", help="as JSON")] = False,
              ) -> None:
    """One run's summary as it was recorded: counts, reasons, payloads by target,
    what needed attention, the error, the outcome."""
    settings = _settings(config)
    with _refused("error"):
        found = show_run(settings, run_id)
    if json_out:
        console.print_json(json.dumps(found))
    else:
        render_run(found, console)


@app.command()
def sandbox(
    host: str = "127.0.0.1", port: int = 8765,
    api_key: Annotated[list[str] | None, typer.Option(
        help="accept only this key (repeatable); default any sk_test_/sk_live_ key")] = None,
    rate_limit: Annotated[int, typer.Option(
        help="requests per rolling second per workspace (0 = off)")] = 100,
    latency_ms: float = 0.0, latency_jitter_ms: float = 0.0,
    error_rate: Annotated[float, typer.Option(help="fraction of requests answered 5xx")] = 0.0,
    drop_rate: Annotated[float, typer.Option(help="fraction of connections dropped")] = 0.0,
    drop_mode: Annotated[str, typer.Option(help="before|after processing")] = "before",
    storm_seconds: Annotated[float, typer.Option(help="a 429 storm at start")] = 0.0,
    ignore_idempotency: bool = False, seed: int | None = None,
    sticker_api_key: Annotated[list[str] | None, typer.Option(
        help="Sticker: accept only this partner key (repeatable)")] = None,
    sticker_rate_limit: Annotated[int, typer.Option(
        help="Sticker: requests per rolling second per partner key (0 = off)")] = 10,
    setup_error_rate: Annotated[float, typer.Option(
        help="Sticker: fraction of setups answered 500 SETUP_ERROR")] = 0.0,
    setup_error_next: Annotated[int, typer.Option(
        help="Sticker: the next N setups answer 500 SETUP_ERROR")] = 0,
    setup_error_mode: Annotated[str, typer.Option(
        help="Sticker: SETUP_ERROR before|after processing")] = "before",
) -> None:
    """Serve the local Sticky emulator at / and the Sticker emulator under /sticker (see
    sandbox/README.md); faults can also be changed at run time with POST /_sandbox/faults."""
    try:
        faults = Faults(latency_ms=latency_ms, latency_jitter_ms=latency_jitter_ms,
                        error_rate=error_rate, drop_rate=drop_rate,
                        drop_mode=drop_mode,  # type: ignore[arg-type]
                        storm_seconds=storm_seconds, ignore_idempotency=ignore_idempotency,
                        seed=seed, setup_error_rate=setup_error_rate,
                        setup_error_next=setup_error_next,
                        setup_error_mode=setup_error_mode)  # type: ignore[arg-type]
    except FaultError as exc:
        _error("invalid fault setting", exc)
        raise typer.Exit(2) from exc
    config = SandboxConfig(api_keys=frozenset(api_key) if api_key else None,
                           rate_limit=rate_limit or None, faults=faults,
                           sticker_api_keys=frozenset(sticker_api_key) if sticker_api_key
                           else None, sticker_rate_limit=sticker_rate_limit or None)
    console.print(f"Sticky sandbox on http://{host}:{port}, Sticker on "
                  f"http://{host}:{port}/sticker (Ctrl-C to stop)")
    serve(host, port, config)


@app.command()
def demo(workdir: Annotated[Path, typer.Option(
            help="scratch folder for the demo (recreated)")] = Path(".demo"),
         ) -> None:
    """Start the bundled sandbox, sync the bundled sample drop (examples/drop/) into it,
    print the summary, then run again to show that nothing is sent twice."""
    configure_logging("error", "console")  # the summary tables tell the story
    raise typer.Exit(int(runtime.run(demo_command(workdir, console))))


dlq_app = typer.Typer(no_args_is_help=True, rich_markup_mode=None, help=(
    "The quarantine: records that were valid but could not be delivered (refused by "
    "the target, customer or order unknown, retries exhausted), kept for replay."))
app.add_typer(dlq_app, name="dlq")
SelectIds = Annotated[list[int] | None, typer.Argument(help="quarantine ids (dlq list)")]
SelectAll = Annotated[bool, typer.Option("--all", help="every open quarantined record")]
SelectReason = Annotated[str | None, typer.Option(help="only records with this reason")]
SelectSource = Annotated[str | None, typer.Option(help="only records of this source")]


@dlq_app.command("list")
def dlq_list(config: ConfigOption = None, source: SelectSource = None,
             reason: SelectReason = None,
             resolved: Annotated[bool, typer.Option(
                 help="also records already delivered, superseded or discarded")] = False,
             limit: int = 200,
             disposition: Annotated[str, typer.Option(
                 help="quarantined (replayable), or rejected / skipped to see what was "
                 "refused as bad data or left out on purpose")] = "quarantined",
             json_out: Annotated[bool, typer.Option("--json", help="as JSON")] = False,
             ) -> None:
    """Quarantined records (open ones), oldest first; phones and e-mails masked."""
    settings = _settings(config)
    if disposition not in ("quarantined", "rejected", "skipped"):
        _error("error", "--disposition is quarantined, rejected or "
                          "skipped")
        raise typer.Exit(int(ExitCode.CONFIG_ERROR))
    issues = list_quarantine(settings, source=source, reason=reason,
                             include_resolved=resolved, limit=limit, disposition=disposition)
    if json_out:
        console.print_json(json.dumps([issue_summary(i) for i in issues], default=str))
    else:
        render_list(issues, console)


@dlq_app.command("show")
def dlq_show(issue_id: Annotated[int, typer.Argument(help="the id from dlq list")],
             config: ConfigOption = None,
             reveal: Annotated[bool, typer.Option(
                 help="print phones and e-mails in clear (they are masked otherwise)")] = False,
             ) -> None:
    """One record issue (quarantined, rejected or skipped): the error, the row as read and,
    for a quarantined one, the copy kept for replay."""
    settings = _settings(config)
    with _refused("error"):
        data = show_issue(settings, issue_id, reveal=reveal)
    console.print_json(json.dumps(data, default=str))


@dlq_app.command("retry")
def dlq_retry(ids: SelectIds = None, all_open: SelectAll = False, reason: SelectReason = None,
              source: SelectSource = None, config: ConfigOption = None,
              json_out: Annotated[bool, typer.Option("--json", help="summary as JSON")] = False,
              ) -> None:
    """Send quarantined records again (once the cause is fixed). Each goes through the
    ledger, so nothing delivered meanwhile is sent twice. Exit codes as for `run`."""
    settings = _settings(config)
    with _refused("error"):
        code = runtime.run(retry_command(settings, ids=ids or [], all_open=all_open,
                                         reason=reason, source=source, json_out=json_out,
                                         console=console))
    raise typer.Exit(int(code))


@dlq_app.command("discard")
def dlq_discard(ids: SelectIds = None, all_open: SelectAll = False,
                reason: SelectReason = None, source: SelectSource = None,
                config: ConfigOption = None) -> None:
    """Give up on quarantined records: they stay in the history as discarded."""
    settings = _settings(config)
    with _refused("error"):
        count = discard_command(settings, ids=ids or [], all_open=all_open, reason=reason,
                                source=source)
    console.print(f"discarded {count} quarantined record(s)")


def _emit_csv(text: str, out: Path | None, what: str) -> None:
    """An export to standard output, or to ``out`` with mode 600 (personal data)."""
    if out is None:
        typer.echo(text, nl=False)
        return
    with _refused("error"):
        write_private(out, text)
    err_console.print(f"wrote {text.count(chr(10)) - 1} {what} to {out}")


passes_app = typer.Typer(no_args_is_help=True, rich_markup_mode=None, help=(
    "Wallet passes (opt-in per tenant with [tenants.passes]): mint on demand, export the "
    "install links for the retailer's own messaging tool. Nobody is messaged from here."))
app.add_typer(passes_app, name="passes")
TenantOption = Annotated[str | None, typer.Option(
    "--tenant", help="the tenant (needed when several are configured)")]


@passes_app.command("mint")
def passes_mint(customer: Annotated[list[str], typer.Option(
                    "--customer", help="a Sticky customer id (cus_…) or a source customer "
                    "key (source:id); repeat for several")],
                config: ConfigOption = None, tenant: TenantOption = None,
                remint: Annotated[bool, typer.Option(
                    help="replace a link that expired unused (needs pass.installed "
                    "webhooks)")] = False) -> None:
    """Mint a pass for customers that have none (a customer is never minted twice)."""
    settings = _settings(config)
    with _refused("error"):
        decisions, outcome = runtime.run(mint_command(
            settings, tenant_id=tenant, customers=customer, remint=remint))
    for d in decisions:
        console.print(f"{d.customer} ({d.workspace} {d.customer_id}): {d.action}"
                      + (f" ({d.detail})" if d.detail else ""), highlight=False)
    console.print(f"passes step: {outcome.status}, minted {outcome.minted}, re-minted "
                  f"{outcome.reminted}, refused {outcome.rejected}"
                  + (f": {outcome.error}" if outcome.error else ""), highlight=False)
    if outcome.status == "aborted":
        raise typer.Exit(int(ExitCode.TARGET_UNREACHABLE))
    if outcome.rejected:
        raise typer.Exit(int(ExitCode.RECORDS_FAILED))


@passes_app.command("export")
def passes_export(config: ConfigOption = None, tenant: TenantOption = None,
                  out: Annotated[Path | None, typer.Option(
                      "--out", "-o", help="CSV file to write (default: standard output)")]
                  = None,
                  include_all: Annotated[bool, typer.Option(
                      "--all", help="also installed, expired and refused passes")] = False,
                  ) -> None:
    """Install links as CSV (valid ones only unless --all), with each customer's contact
    details and consent flags as the source gave them. Mode 600: it holds personal data
    and single-use links."""
    settings = _settings(config)
    with _refused("error"):
        store = settings.state.open()
        try:
            text = csv_text(export_rows(store, settings, tenant_id=tenant,
                                        include_all=include_all))
        finally:
            store.close()
    _emit_csv(text, out, "pass(es)")


webhooks_app = typer.Typer(no_args_is_help=True, rich_markup_mode=None, help=(
    "Sticky webhooks: subscribe each workspace; the daemon receives, verifies and "
    "applies them (docs/webhooks.md)."))
app.add_typer(webhooks_app, name="webhooks")


@webhooks_app.command("subscribe")
def webhooks_subscribe(config: ConfigOption = None,
                       workspace: Annotated[list[str] | None, typer.Option(
                           "--workspace", help="only this workspace (repeatable)")] = None,
                       ) -> None:
    """Register [webhooks] url and events in each workspace (idempotent: a workspace
    already subscribed the same way sends nothing). The signing secret Sticky returns
    goes to [webhooks] secrets_file (mode 600), never to the screen or the logs."""
    settings = _settings(config)
    with _refused("error"):
        done = runtime.run(subscribe_command(settings, workspace))
    for item in done:
        console.print(f"{item.workspace}: {item.action} {item.subscription_id or ''} "
                      f"→ {item.url}" + (f" ({item.note})" if item.note else ""),
                      highlight=False)


@webhooks_app.command("process")
def webhooks_process(config: ConfigOption = None) -> None:
    """Apply stored webhook events and send owed tier tags now (the daemon does this by
    itself; this is for a daemon that is down, or after fixing a write-back error)."""
    settings = _settings(config)
    with _refused("error"):
        applied, written = process_command(settings)
    console.print("events: " + (", ".join(f"{k} {v}" for k, v in sorted(
        applied.outcomes.items())) or "none waiting"))
    console.print("tier write-back: " + (", ".join(f"{k} {v}" for k, v in sorted(
        written.outcomes.items())) or "nothing owed"))
    for line in written.errors:
        _error("error", line)
    if written.errors:
        raise typer.Exit(int(ExitCode.TARGET_UNREACHABLE))


loyalty_app = typer.Typer(no_args_is_help=True, rich_markup_mode=None, help=(
    "What Sticky reported per customer through webhooks: tier, pass installs, journeys."))
app.add_typer(loyalty_app, name="loyalty")


@loyalty_app.command("export")
def loyalty_export(config: ConfigOption = None, tenant: TenantOption = None,
                   out: Annotated[Path | None, typer.Option(
                       "--out", "-o", help="CSV file to write (default: standard output)")]
                   = None) -> None:
    """One CSV row per Sticky customer: tier (and the one before), when it changed,
    points, its pass and whether it was installed, its last journey."""
    settings = _settings(config)
    with _refused("error"):
        store = settings.state.open()
        try:
            text = loyalty_csv(loyalty_rows(settings, store, tenant))
        finally:
            store.close()
    _emit_csv(text, out, "customer(s)")


def main() -> None:
    # everything this process creates holds personal data or secrets (the state DB, kept
    # drop files, errors reports, exports): owner-only whatever the caller's umask; the
    # places that create them also set their modes explicitly (docs/privacy.md)
    os.umask(0o077)
    app()
