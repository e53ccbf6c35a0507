"""A pass over every configured source (or one): leases, run records, outcomes."""

from __future__ import annotations

import asyncio
import os
import socket
import uuid
from dataclasses import dataclass, field
from enum import IntEnum

import structlog

from adapters.base import Adapter
from connector.config import Settings, SourceSettings, TenantSettings
from connector.delivery.limits import WorkspacePace
from connector.delivery.retry import RetryPolicy
from connector.delivery.sticky import StickyClient, StickyEndpoint
from connector.errors import AbortRun, ConfigurationError
from connector.mapping.context import MappingContext
from connector.sources import build_adapter
from connector.sync.runner import SourceRunner
from connector.sync.sender import BatchSender
from connector.sync.state_thread import StateThread
from connector.sync.summary import RunSummary
from state import StateStore

log = structlog.get_logger("connector.run")

LEASE_TTL_SECONDS = 120.0
LEASE_RENEW_SECONDS = 30.0


class ExitCode(IntEnum):
    OK = 0
    RECORDS_FAILED = 1
    CONFIG_ERROR = 2
    SOURCE_BUSY = 3
    TARGET_UNREACHABLE = 4


@dataclass(slots=True)
class SourceOutcome:
    tenant: str
    source: str
    status: str  # ok | aborted | busy
    summary: RunSummary
    error: str | None = None


@dataclass(slots=True)
class PassReport:
    outcomes: list[SourceOutcome] = field(default_factory=list)
    total: RunSummary = field(default_factory=RunSummary)

    @property
    def exit_code(self) -> ExitCode:
        statuses = {o.status for o in self.outcomes}
        if "aborted" in statuses:
            return ExitCode.TARGET_UNREACHABLE
        if "busy" in statuses:
            return ExitCode.SOURCE_BUSY
        if sum(self.total.quarantined.values()):
            return ExitCode.RECORDS_FAILED
        return ExitCode.OK


def holder_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def holder_is_dead(holder: str) -> bool:
    """True when ``holder`` names a process on this host that no longer exists (a run
    killed with SIGKILL leaves its lease behind; no need to wait for the TTL)."""
    host, _, rest = holder.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def claim_lease(store: StateStore, tenant: str, source: str, holder: str) -> bool:
    if store.leases.acquire(tenant, source, holder, LEASE_TTL_SECONDS):
        return True
    current = store.leases.holder(tenant, source)
    if current is not None and holder_is_dead(current.holder):
        log.warning("taking over the lease of a dead process", tenant=tenant, source=source,
                    stale_holder=current.holder)
        return store.leases.take_over(tenant, source, current.holder, holder,
                                      LEASE_TTL_SECONDS)
    return False


async def _keep_lease(store: StateStore, tenant: str, source: str, holder: str) -> None:
    while True:
        await asyncio.sleep(LEASE_RENEW_SECONDS)
        store.leases.renew(tenant, source, holder, LEASE_TTL_SECONDS)


def sticky_client(settings: Settings) -> StickyClient:
    cfg = settings.sticky
    key = cfg.resolved_api_key()
    if key is None:
        raise ConfigurationError(
            "sticky: no API key; set STICKY_SYNC_STICKY__API_KEY or sticky.api_key_file")
    if not key.get_secret_value().startswith(("sk_test_", "sk_live_")):
        raise ConfigurationError(
            "sticky: the API key must start with sk_test_ (sandbox) or sk_live_ (production)")
    endpoint = StickyEndpoint(
        base_url=cfg.base_url, api_key=key, timeout_seconds=cfg.timeout_seconds,
        max_connections=min(64, max(16, cfg.max_in_flight_per_workspace * 4)))
    return StickyClient(
        endpoint, WorkspacePace.for_cap(cfg.rate_limit_per_second, cfg.rate_limit_headroom),
        RetryPolicy(max_attempts=cfg.max_attempts, budget_seconds=cfg.retry_budget_seconds))


def mapping_context(tenant: TenantSettings, source: str) -> MappingContext:
    return MappingContext(tenant=tenant.id, source=source, phone_region=tenant.phone_region,
                          timezone=tenant.timezone,
                          default_workspace=tenant.default_workspace,
                          workspaces=dict(tenant.workspaces))


async def run_pass(settings: Settings, store: StateStore, sticky: StickyClient, *,
                   only_source: str | None = None, trigger: str = "manual") -> PassReport:
    report = PassReport()
    selected = [(t, s) for t in settings.tenants for s in t.sources
                if only_source is None or s.name == only_source]
    if only_source is not None and not selected:
        raise ConfigurationError(f"--source {only_source}: no source has that name")
    holder = holder_id()
    for tenant, source in selected:
        outcome = await _run_source(tenant, source, build_adapter(source), store, sticky,
                                    settings, holder, trigger)
        report.outcomes.append(outcome)
        report.total.merge(outcome.summary)
    report.total.finish()
    return report


async def _run_source(tenant: TenantSettings, source: SourceSettings, adapter: Adapter,
                      store: StateStore, sticky: StickyClient, settings: Settings,
                      holder: str, trigger: str) -> SourceOutcome:
    source_name = source.name
    bound = log.bind(tenant=tenant.id, source=source_name)
    if not claim_lease(store, tenant.id, source_name, holder):
        lease = store.leases.holder(tenant.id, source_name)
        message = f"another run holds {tenant.id}/{source_name}" + (
            f" ({lease.holder}, until {lease.expires_at:%H:%M:%S}Z)" if lease else "")
        bound.warning("source busy", holder=lease.holder if lease else None)
        return SourceOutcome(tenant.id, source_name, "busy", RunSummary(), message)
    run_id = store.runs.start(tenant.id, source_name, trigger)
    with structlog.contextvars.bound_contextvars(run_id=run_id, tenant=tenant.id,
                                                 source=source_name):
        return await _run_started(tenant, source, adapter, store, sticky, settings, holder,
                                  run_id)


async def _run_started(tenant: TenantSettings, source: SourceSettings, adapter: Adapter,
                       store: StateStore, sticky: StickyClient, settings: Settings,
                       holder: str, run_id: int) -> SourceOutcome:
    source_name = source.name
    state_thread = StateThread()
    sender = BatchSender(tenant.id, store, sticky, settings.sticky.max_in_flight_per_workspace,
                         state_thread)
    runner = SourceRunner(
        mapping_context(tenant, source_name), adapter, store, sender, source.batch_size,
        run_id)
    keeper = asyncio.create_task(_keep_lease(store, tenant.id, source_name, holder))
    try:
        summary = await runner.run()
    except AbortRun as exc:
        runner.summary.finish()
        runner.summary.aborted.append(f"{tenant.id}/{source_name}: {exc}")
        store.runs.finish(run_id, "aborted", runner.summary.as_dict(), error=str(exc))
        log.error("run aborted", error=str(exc))
        return SourceOutcome(tenant.id, source_name, "aborted", runner.summary, str(exc))
    finally:
        keeper.cancel()
        state_thread.close()
        store.leases.release(tenant.id, source_name, holder)
    outcome = "failed" if sum(summary.quarantined.values()) else "ok"
    store.runs.finish(run_id, outcome, summary.as_dict())
    log.info("run finished", outcome=outcome, records=summary.records_read,
               seconds=round(summary.duration, 2))
    return SourceOutcome(tenant.id, source_name, "ok", summary)
