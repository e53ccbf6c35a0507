"""The daemon: one scheduled job per (tenant, source), shared clients and state, and a
graceful stop.

Stopping (first SIGTERM or SIGINT):

1. the ``stop`` event is set: a running pass reads no new batch, settles the batches it
   has read, checkpoints them and starts no further source;
2. the scheduler is paused, so no pass starts;
3. running passes get ``drain_seconds`` to end; any still running then is cancelled
   (what it had in flight stays ``pending`` in the ledger and is resent, with the same
   idempotency key, by the next run; its lease is released by ``run_pass``);
4. only then the scheduler is shut down (its own shutdown cancels running jobs), and the
   health server stops.

A second signal during the drain skips the rest of the wait: running passes are
cancelled at once, as at the deadline. The exit status stays 0 either way: the stop was
asked for, and nothing is lost.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from sqlalchemy.exc import SQLAlchemyError
from starlette.applications import Starlette

from connector.config import Settings, TenantSettings
from connector.daemon.guard import (
    Guard,
    Limits,
    QuietAcceptErrors,
    connection_cap,
    raise_open_file_limit,
)
from connector.daemon.scheduler import add_pass_job, create_scheduler, trigger_for
from connector.daemon.server import HealthServer, health_app
from connector.daemon.webhooks import WebhookWorker
from connector.delivery.sticker import StickerClient
from connector.delivery.sticky import StickyClient
from connector.errors import ConfigurationError, StateUnavailable
from connector.metrics import Metrics, pass_outcome, records_delivered
from connector.outcomes import Outcome, PayloadOutcome
from connector.sync.orchestrator import PassReport, run_pass
from connector.sync.state_thread import off_loop
from state import StateStore

log = structlog.get_logger("connector.daemon")

QUIET_LOGGERS = ("asyncio", "uvicorn.error")
"""Loggers whose per-connection lines become counts (connector/daemon/guard.py)."""
RETRY_FIRST_SECONDS = 5.0
RETRY_MAX_SECONDS = 300.0
"""A pass stopped by a state DB failure is tried again after 5 s, then 10, 20... 300."""
CANCEL_GRACE_SECONDS = 2.0
CANCEL_ROUNDS = 5
"""A cancelled pass gets this long to run its ``finally`` blocks (its lanes are cancelled
with it, the run is recorded ``cancelled``, the lease released); one still running then
is cancelled again, a few times, before the daemon gives up waiting for it."""


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).isoformat(timespec="seconds")


@dataclass(slots=True)
class SourceJob:
    """One (tenant, source) on its schedule, and what its last pass did."""

    tenant: str
    source: str
    schedule: str
    timezone: str
    settings: Settings
    """The daemon's settings narrowed to this tenant: ``run_pass(only_source=...)``
    matches a source by name across tenants."""
    passes: int = 0
    task: asyncio.Task[None] | None = None
    last_started: datetime | None = None
    last_finished: datetime | None = None
    last_outcome: str | None = None
    last_error: str | None = None

    @property
    def job_id(self) -> str:
        return f"{self.tenant}/{self.source}"


@dataclass(slots=True)
class StateDbHealth:
    """Whether the state DB answered the last pass (``/healthz`` ``state_db``)."""

    error: str | None = None
    since: datetime | None = None
    failures: int = 0
    """Failures in a row (0: the DB answered the last pass)."""
    retry_at: datetime | None = None

    @property
    def ok(self) -> bool:
        return self.failures == 0

    def failed(self, error: str) -> float:
        """Record a failure; the seconds to wait before trying again."""
        if self.ok:
            self.since = datetime.now(UTC)
        self.error = error
        self.failures += 1
        return float(min(RETRY_MAX_SECONDS, RETRY_FIRST_SECONDS * 2 ** (self.failures - 1)))

    def recovered(self) -> None:
        self.error, self.since, self.failures, self.retry_at = None, None, 0, None

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "error": self.error, "since": _iso(self.since),
                "retry_at": _iso(self.retry_at)}


@dataclass(slots=True)
class Totals:
    """What the daemon did over its lifetime (the line it logs when it stops)."""

    passes: int = 0
    records_read: int = 0
    delivered: int = 0
    sent: int = 0
    quarantined: int = 0
    started: float = field(default_factory=time.monotonic)

    @property
    def uptime(self) -> float:
        return time.monotonic() - self.started

    def add(self, report: PassReport) -> None:
        for outcome in report.outcomes:
            if outcome.status == Outcome.BUSY:
                continue
            summary = outcome.summary
            self.records_read += summary.records_read
            self.delivered += records_delivered(outcome)
            self.quarantined += sum(summary.quarantined.values())
            self.sent += sum(c.get(PayloadOutcome.NEW, 0) + c.get(PayloadOutcome.CHANGED, 0)
                             for c in summary.targets.values())

    def as_dict(self) -> dict[str, Any]:
        return {"passes": self.passes, "records_read": self.records_read,
                "delivered": self.delivered, "payloads_sent": self.sent,
                "quarantined": self.quarantined, "uptime_seconds": round(self.uptime, 1)}


def _narrowed(settings: Settings, tenant: TenantSettings) -> Settings:
    return settings.model_copy(update={"tenants": [tenant]})


class Daemon:
    def __init__(self, settings: Settings, store: StateStore, sticky: StickyClient,
                 sticker: StickerClient | None = None, metrics: Metrics | None = None) -> None:
        self.settings = settings
        self.store = store
        self.sticky = sticky
        self.sticker = sticker
        self.metrics = metrics or Metrics()
        self.metrics.watch_traffic("sticky", sticky.traffic)
        if sticker is not None:
            self.metrics.watch_traffic("sticker", sticker.traffic)
        self.jobs = [SourceJob(t.id, s.name, s.schedule, t.timezone, _narrowed(settings, t))
                     for t in settings.tenants for s in t.sources]
        if not self.jobs:
            raise ConfigurationError("no source is configured: the daemon has nothing to run")
        self.totals = Totals()
        self.state_db = StateDbHealth()
        self._background: set[asyncio.Future[None]] = set()
        self.organizations: dict[str, tuple[str, datetime]] = {}
        self.stop = asyncio.Event()
        """Set on the first signal: passes settle what they read and start nothing new."""
        self._hurry = asyncio.Event()
        """Set on a second signal: cancel running passes without waiting."""
        self._scheduler = create_scheduler(settings.daemon.misfire_grace_seconds)
        self._server: HealthServer | None = None
        self._webhook_server: HealthServer | None = None
        self.webhooks = (WebhookWorker(settings, store, self.metrics)
                         if settings.webhooks.url is not None else None)
        cfg = settings.daemon
        open_files = raise_open_file_limit()
        self.guard = Guard(
            Limits(header_timeout=cfg.header_timeout_seconds,
                   body_timeout=cfg.body_timeout_seconds, keep_alive=cfg.keep_alive_seconds,
                   max_connections=cfg.max_connections,
                   max_per_client=cfg.max_connections_per_client),
            connection_cap(cfg.max_connections, open_files), name="daemon http")
        """Connection limits shared by the health server and the webhook receiver."""
        self.metrics.watch_guard(self.guard)
        """The webhook receiver and worker, when ``[webhooks] url`` is set."""

    # -- lifetime -----------------------------------------------------------------------
    def install_signal_handlers(self) -> Callable[[], None]:
        """SIGTERM and SIGINT start the graceful stop; returns the undo."""
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.request_stop, sig.name)

        def remove() -> None:
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(sig)
        return remove

    def request_stop(self, reason: str = "requested") -> None:
        if not self.stop.is_set():
            log.info("stopping: running passes settle what they have read", signal=reason,
                     running=self._running_ids(),
                     drain_seconds=self.settings.daemon.drain_seconds)
            self.stop.set()
            if self._scheduler.running:
                self._scheduler.pause()
        elif not self._hurry.is_set():
            log.warning("second stop signal: cancelling running passes now", signal=reason,
                        running=self._running_ids())
            self._hurry.set()

    async def run(self) -> Totals:
        """Serve until a stop is requested, then drain and shut down (clients and the
        store are the caller's to close)."""
        cfg, hooks = self.settings.daemon, self.settings.webhooks
        own_port = self.webhooks is not None and hooks.port is not None
        shared = self.webhooks.routes() if self.webhooks is not None and not own_port else []
        if self.webhooks is not None and not own_port and not cfg.port:
            raise ConfigurationError("webhooks.url is set but the daemon serves no HTTP: "
                                     "set [daemon] port or [webhooks] port")
        reporter = asyncio.create_task(self._report_shed_connections())
        quiet = QuietAcceptErrors(self.guard)
        for name in QUIET_LOGGERS:
            logging.getLogger(name).addFilter(quiet)
        try:
            if cfg.port:
                self._server = HealthServer(health_app(self, shared), cfg.host, cfg.port,
                                            self.guard)
                await self._server.start()
            if self.webhooks is not None:
                if own_port:
                    assert hooks.port is not None
                    self._webhook_server = HealthServer(
                        Starlette(routes=self.webhooks.routes()), hooks.host or cfg.host,
                        hooks.port, self.guard)
                    await self._webhook_server.start()
                self.webhooks.start()
            for job in self.jobs:
                add_pass_job(self._scheduler, job.job_id,
                             trigger_for(job.schedule, job.timezone), self._job_runner(job))
            self._scheduler.start(paused=self.stop.is_set())
            log.info("daemon started",
                     sources=", ".join(f"{j.job_id} ({j.schedule})" for j in self.jobs),
                     health=None if self._server is None else self._server.url,
                     webhooks=self._webhook_url())
            await self.stop.wait()
            await self._drain()
        finally:
            if self._scheduler.running:
                self._scheduler.shutdown(wait=False)
                await asyncio.sleep(0)  # AsyncIOScheduler shuts down via call_soon
            if self.webhooks is not None:
                await self.webhooks.stop()
            for server in (self._webhook_server, self._server):
                if server is not None:
                    await server.stop()
            reporter.cancel()
            self.guard.maybe_report(force=True)
            for name in QUIET_LOGGERS:
                logging.getLogger(name).removeFilter(quiet)
        return self.totals

    async def _report_shed_connections(self) -> None:
        """One summary line per period about connections the guard closed (never one
        per connection)."""
        while True:
            await asyncio.sleep(self.guard.limits.report_seconds)
            self.guard.maybe_report()

    async def _drain(self) -> None:
        await asyncio.sleep(0)  # a job submitted just before the pause sees `stop` and quits
        running = {j.task for j in self.jobs if j.task is not None and not j.task.done()}
        if not running:
            return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.settings.daemon.drain_seconds
        hurry = asyncio.create_task(self._hurry.wait())
        try:
            while running and not self._hurry.is_set():
                remaining = deadline - loop.time()
                if remaining <= 0:
                    break
                done, _ = await asyncio.wait({*running, hurry}, timeout=remaining,
                                             return_when=asyncio.FIRST_COMPLETED)
                running -= done
        finally:
            hurry.cancel()
        if not running:
            log.info("drained: every running pass settled what it had read")
            return
        log.warning("cancelling passes still running; their pending records are resent "
                    "by the next run", running=self._running_ids(),
                    reason="second signal" if self._hurry.is_set() else "drain deadline")
        for _ in range(CANCEL_ROUNDS):
            for task in running:
                task.cancel()
            _, running = await asyncio.wait(running, timeout=CANCEL_GRACE_SECONDS)
            if not running:
                return
        log.error("passes did not end after cancellation", running=self._running_ids())

    # -- passes -------------------------------------------------------------------------
    def _job_runner(self, job: SourceJob) -> Callable[[], Any]:
        async def run_job() -> None:
            if self.stop.is_set() or (job.task is not None and not job.task.done()):
                return  # a retry and a slot may meet: one pass at a time
            job.task = asyncio.create_task(self._pass(job), name=f"pass {job.job_id}")
            try:
                await job.task
            except asyncio.CancelledError:
                current = asyncio.current_task()
                if current is not None and current.cancelling():
                    raise  # the scheduler itself is being cancelled
                # the pass was cancelled by the drain: recorded, nothing for APScheduler

        return run_job

    async def _pass(self, job: SourceJob) -> None:
        job.last_started = datetime.now(UTC)
        job.last_error = None
        self.metrics.pass_started(job.tenant, job.source)
        report: PassReport | None = None
        outcome = "error"
        try:
            report = await run_pass(job.settings, self.store, self.sticky, sticker=self.sticker,
                                    only_source=job.source, trigger="daemon", stop=self.stop)
        except asyncio.CancelledError:
            outcome = Outcome.CANCELLED
            job.last_error = "cancelled during shutdown"
            raise
        except (StateUnavailable, SQLAlchemyError) as exc:  # the DB, not the pass
            failure = exc if isinstance(exc, StateUnavailable) else self.store.failure(exc)
            job.last_error = str(failure)
            self._state_failed(job, failure)
        except Exception as exc:  # one pass failing must not stop the daemon
            job.last_error = f"{type(exc).__name__}: {exc}"
            log.error("pass failed", tenant=job.tenant, source=job.source,
                      error=job.last_error, exc_info=True)
        finally:
            self._pass_ended(job, report, outcome)
        if report is not None and not self.state_db.ok:
            self.state_db.recovered()
            self.metrics.state_db_up.set(1)
            log.info("state DB usable again", tenant=job.tenant, source=job.source)

    def _state_failed(self, job: SourceJob, failure: StateUnavailable) -> None:
        """Say it once per failure (no traceback), show it on /healthz and /metrics, and
        try the source again after a backoff (5 s doubling to 5 min) unless its own slot
        comes first."""
        delay = self.state_db.failed(str(failure))
        self.metrics.state_db_up.set(0)
        log.error("pass stopped: the state DB failed", tenant=job.tenant,
                  source=job.source, error=str(failure), retry_in_seconds=delay)
        if self.stop.is_set() or not self._scheduler.running:
            return
        retry_at = datetime.now(UTC) + timedelta(seconds=delay)
        self.state_db.retry_at = retry_at
        self._scheduler.add_job(self._job_runner(job), "date", run_date=retry_at,
                                id=f"{job.job_id}#retry", name=f"{job.job_id} retry",
                                replace_existing=True)

    def _pass_ended(self, job: SourceJob, report: PassReport | None, outcome: str) -> None:
        job.task = None
        if report is not None:
            mine = [o for o in report.outcomes if (o.tenant, o.source) == (job.tenant, job.source)]
            if not mine:  # stop was set before the source started: not a pass
                self.metrics.running.labels(job.tenant, job.source).set(0)
                return
            outcome = pass_outcome(mine[0])
            job.last_error = mine[0].error
        job.last_finished = datetime.now(UTC)
        if report is not None:
            for org in report.organizations:
                self.organizations[org.tenant] = (org.status, job.last_finished)
            self.totals.add(report)
        job.passes += 1
        job.last_outcome = outcome
        self.totals.passes += 1
        self.metrics.pass_ended(job.tenant, job.source, report, outcome)
        # off the event loop: it reads the state DB, which may be the thing failing
        task = asyncio.ensure_future(off_loop(self._refresh_state))
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        log.info("pass ended", tenant=job.tenant, source=job.source, outcome=str(outcome),
                 records=None if report is None else report.total.records_read,
                 seconds=round((job.last_finished - (job.last_started or job.last_finished))
                               .total_seconds(), 2))

    def _refresh_state(self) -> None:
        try:
            self.metrics.refresh_state(self.store, [(j.tenant, j.source) for j in self.jobs])
        except Exception as exc:  # noqa: BLE001 - metrics must never stop a pass or a scrape
            log.warning("could not read cursor lag / quarantine size", error=str(exc))

    def _webhook_url(self) -> str | None:
        server = self._webhook_server or self._server
        if self.webhooks is None or server is None:
            return None
        return server.url + self.settings.webhooks.route

    def _running_ids(self) -> str:
        return ", ".join(j.job_id for j in self.jobs if j.task is not None and not j.task.done())

    # -- health and metrics (HealthSource) ----------------------------------------------
    def health(self) -> tuple[dict[str, Any], bool]:
        draining = self.stop.is_set()
        jobs = {job.id: job for job in self._scheduler.get_jobs()} if (
            self._scheduler.running) else {}
        sources = []
        for job in self.jobs:
            scheduled = jobs.get(job.job_id)
            next_run = None if draining or scheduled is None else scheduled.next_run_time
            sources.append({
                "tenant": job.tenant, "source": job.source, "schedule": job.schedule,
                "running": job.task is not None and not job.task.done(),
                "passes": job.passes, "last_pass_started_at": _iso(job.last_started),
                "last_pass_finished_at": _iso(job.last_finished),
                "last_outcome": job.last_outcome, "last_error": job.last_error,
                "next_run_at": _iso(next_run)})
        body: dict[str, Any] = {
            "status": "draining" if draining else "ok" if self.state_db.ok else "degraded",
            # which replica answers: its sources' "running" say what it works on now
            "replica": f"{socket.gethostname()}:{os.getpid()}",
            "uptime_seconds": round(self.totals.uptime, 1),
            "passes": self.totals.passes, "state_db": self.state_db.as_dict(),
            "sources": sources}
        if self.webhooks is not None:
            body["webhooks"] = self.webhooks.health()
        if self.organizations:
            body["organizations"] = [
                {"tenant": tenant, "last_status": status, "at": _iso(at)}
                for tenant, (status, at) in sorted(self.organizations.items())]
        return body, draining

    def exposition(self, accept: str | None) -> tuple[bytes, str]:
        self._refresh_state()
        return self.metrics.render(accept)
