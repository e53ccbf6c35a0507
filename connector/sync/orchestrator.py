"""A pass over every configured source (or one): leases, run records, outcomes."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Protocol, TypeVar

import structlog
from sqlalchemy.exc import SQLAlchemyError

from adapters.base import Adapter
from connector.config import Settings, SourceSettings, TenantSettings
from connector.delivery.limits import WorkspacePace
from connector.delivery.sticker import StickerClient, StickerEndpoint
from connector.delivery.sticky import StickyClient, StickyEndpoint
from connector.errors import AbortRun, ConfigurationError, LeaseLost, StateUnavailable
from connector.http.retry import RetryPolicy
from connector.mapping.context import UNMAPPED_STORE, MappingContext
from connector.outcomes import ExitCode, Outcome, PayloadOutcome, exit_code, overall
from connector.sources import build_adapter, build_backfill
from connector.sync.budget import SharedBudget
from connector.sync.due import is_due
from connector.sync.forget_files import forget_in_files
from connector.sync.leasing import HeldLease, busy_message, claim, holder_id, release
from connector.sync.organizations import (
    STEP,
    OrganizationOutcome,
    OrganizationSync,
    SetupStatus,
)
from connector.sync.organizations import TARGET as STICKER_TARGET
from connector.sync.pass_rule import pass_notes, pass_rule
from connector.sync.passes import STEP as PASSES_STEP
from connector.sync.passes import MintStatus, PassesOutcome, PassMinter, has_pass_work
from connector.sync.replay import (
    AUTO_RETRY_LIMIT,
    AUTO_RETRY_MAX_ATTEMPTS,
    AUTO_RETRY_REASONS,
    FollowedByReplays,
    ReplayAdapter,
    next_retry_at,
)
from connector.sync.runner import DRY_PLAN_SLICE, PLAN_SLICE, BatchHook, SourceRunner
from connector.sync.sender import BatchSender
from connector.sync.state_thread import StateThread, off_loop, off_loop_shielded
from connector.sync.summary import RunSummary
from state import StateStore, StoredIssue

log = structlog.get_logger("connector.run")

@dataclass(slots=True)
class SourceOutcome:
    tenant: str
    source: str
    status: Outcome
    summary: RunSummary
    error: str | None = None


def organization_word(outcome: OrganizationOutcome) -> Outcome:
    """The Sticker step's outcome in the pass vocabulary."""
    if outcome.status == SetupStatus.ABORTED:
        return Outcome.FAILED
    if outcome.status == SetupStatus.BUSY:
        return Outcome.BUSY
    return (Outcome.NEEDS_ATTENTION if outcome.status == SetupStatus.REJECTED
            or outcome.attention else Outcome.OK)


def passes_word(outcome: PassesOutcome) -> Outcome:
    """The wallet-passes step's outcome in the pass vocabulary (a busy step is another
    process minting: nothing to say)."""
    if outcome.status == MintStatus.ABORTED:
        return Outcome.FAILED
    return Outcome.NEEDS_ATTENTION if outcome.rejected else Outcome.OK


@dataclass(slots=True)
class PassReport:
    outcomes: list[SourceOutcome] = field(default_factory=list)
    organizations: list[OrganizationOutcome] = field(default_factory=list)
    passes: list[PassesOutcome] = field(default_factory=list)
    total: RunSummary = field(default_factory=RunSummary)

    @property
    def outcome(self) -> Outcome:
        """The pass's word: the worst of its sources and steps."""
        return overall([*(o.status for o in self.outcomes),
                        *(organization_word(o) for o in self.organizations),
                        *(passes_word(p) for p in self.passes)])

    @property
    def exit_code(self) -> ExitCode:
        return exit_code(self.outcome)


def sticky_client(settings: Settings, store: StateStore | None = None) -> StickyClient:
    """The Sticky client; with ``store``, its pace per workspace is shared with every other
    process sending to the same workspace (connector/sync/budget.py)."""
    cfg = settings.sticky
    key = cfg.require_api_key()
    if not key.get_secret_value().startswith(("sk_test_", "sk_live_")):
        raise ConfigurationError(
            "sticky: the API key must start with sk_test_ (sandbox) or sk_live_ (production)")
    # A request is paced before it takes a connection: a pool smaller than the requests
    # that may be on their way would hold paced requests back, then let them out bunched.
    # Each source's lane keeps up to max_in_flight requests per workspace.
    lanes = sum(len(t.sources) * len(t.all_workspaces) for t in settings.tenants)
    endpoint = StickyEndpoint(
        base_url=cfg.base_url, api_key=key, timeout_seconds=cfg.timeout_seconds,
        max_connections=max(16, cfg.max_in_flight_per_workspace * lanes))
    client = StickyClient(
        endpoint, WorkspacePace.for_cap(cfg.rate_limit_per_second, cfg.rate_limit_headroom),
        RetryPolicy(max_attempts=cfg.max_attempts, budget_seconds=cfg.retry_budget_seconds))
    if store is not None:
        client.limiters.budget = SharedBudget(store, holder_id(), client.limiters)
    return client


def sticker_client(settings: Settings) -> StickerClient | None:
    """The Sticker client, or ``None`` when no tenant is set up as an organization."""
    if not any(t.sticker is not None for t in settings.tenants):
        return None
    cfg = settings.sticker
    endpoint = StickerEndpoint(base_url=cfg.base_url, api_key=cfg.require_api_key(),
                               timeout_seconds=cfg.timeout_seconds)
    return StickerClient(endpoint, cfg.rate_limit_per_second, RetryPolicy(
        max_attempts=cfg.max_attempts, budget_seconds=cfg.retry_budget_seconds,
        backoff_multiplier=0.5, backoff_max=20.0))


def mapping_context(tenant: TenantSettings, source: str) -> MappingContext:
    return MappingContext(tenant=tenant.id, source=source, phone_region=tenant.phone_region,
                          timezone=tenant.timezone,
                          default_workspace=tenant.default_workspace,
                          workspaces=dict(tenant.workspaces),
                          hold_unmapped=tenant.unmapped_stores == "hold")


async def run_pass(settings: Settings, store: StateStore, sticky: StickyClient, *,
                   sticker: StickerClient | None = None, only_source: str | None = None,
                   trigger: str = "manual", stop: asyncio.Event | None = None,
                   due_only: bool = False, dry_run: bool = False,
                   on_batch: BatchHook | None = None) -> PassReport:
    """Each tenant's selected sources, then (when configured) its Sticker organization.

    ``due_only`` (``run --once``): only the sources whose schedule fired since their last
    run (``sync/due.py``); the others are reported ``not due``.

    ``dry_run`` leaves the sources as they are (no ``batch.after_commit``); the caller
    passes a copy of the state DB and clients that send nothing (``sync/dry_run.py``).

    Once ``stop`` is set, the source at hand finishes the batches it has read (no new
    batch is read), and no further source or organization step starts.
    """
    report = PassReport()
    selected = [(t, s) for t in settings.tenants for s in t.sources
                if only_source is None or s.name == only_source]
    if only_source is not None and not selected:
        raise ConfigurationError(f"--source {only_source}: no source has that name")
    holder = holder_id()
    for tenant in settings.tenants:
        sources = [s for t, s in selected if t is tenant]
        for source in sources:
            if stop is not None and stop.is_set():
                break
            if due_only and not await off_loop(is_due, store, tenant, source):
                report.outcomes.append(SourceOutcome(tenant.id, source.name, Outcome.NOT_DUE,
                                                     RunSummary()))
                continue
            adapter = await off_loop(_with_due_replays, store, tenant, source)
            outcome = await _run_source(tenant, source, adapter, store, sticky, settings,
                                        holder, trigger, stop, dry_run=dry_run,
                                        on_batch=on_batch)
            report.outcomes.append(outcome)
            report.total.merge(outcome.summary)
        if stop is not None and stop.is_set():
            break
        if not dry_run:
            await forget_in_files(tenant, store, report.total)
        if tenant.sticker is not None and (sources or only_source is None):
            if sticker is None:
                raise ConfigurationError(
                    f"tenant {tenant.id} has a [tenants.sticker] section but no Sticker "
                    "client was set up")
            outcome_org = await _run_organization(
                tenant, store, sticker, holder, trigger, settings.state.lease_ttl_seconds)
            report.organizations.append(outcome_org)
            _count_setups(tenant, outcome_org, report.total)
        if tenant.passes is not None and not dry_run and (sources or only_source is None):
            report.passes.append(await run_passes_step(
                tenant, store, sticky, holder, trigger, settings))
    report.total.finish()
    return report


def _count_setups(tenant: TenantSettings, outcome: OrganizationOutcome,
                  total: RunSummary) -> None:
    """Sticker setups by outcome under (``sticker``, internalOrgId), as Sticky payloads
    are counted: a user's setup sent (always new: a sent setup is never sent again),
    already sent (unchanged), or refused before with the same request (rejected)."""
    facts = tenant.organization()
    if facts is None or outcome.status in {SetupStatus.WAITING, SetupStatus.BUSY,
                                           SetupStatus.ABORTED}:
        return
    sent = len(outcome.profiles_added) + len(outcome.profiles_existing)
    rejected = len(outcome.rejected)
    for name, n in ((PayloadOutcome.NEW, sent), (PayloadOutcome.REJECTED, rejected),
                    (PayloadOutcome.UNCHANGED, len(facts.users) - sent - rejected)):
        if n > 0:
            total.count(STICKER_TARGET, outcome.internal_org_id, name, n)


async def run_replay(settings: Settings, store: StateStore, sticky: StickyClient,
                     issues: Sequence[StoredIssue], *, trigger: str = "replay") -> PassReport:
    """Send quarantined records again (``dlq retry``), per (tenant, source) under the
    source's lease; what the target refused before is resent (a person asked for it)."""
    report = PassReport()
    holder = holder_id()
    groups: dict[tuple[str, str], list[StoredIssue]] = {}
    for issue in issues:
        groups.setdefault((issue.tenant, issue.source), []).append(issue)
    for (tenant_id, source_name), group in groups.items():
        tenant, source = _configured(settings, tenant_id, source_name)
        await off_loop(store.issues.note_attempts, [i.id for i in group], next_retry_at)
        adapter = ReplayAdapter(source_name, group, resend_refused=True)
        outcome = await _run_source(tenant, source, adapter, store, sticky, settings,
                                    holder, trigger)
        report.outcomes.append(outcome)
        report.total.merge(outcome.summary)
        await forget_in_files(tenant, store, report.total)
    report.total.finish()
    return report


def _configured(settings: Settings, tenant_id: str,
                source_name: str) -> tuple[TenantSettings, SourceSettings]:
    for tenant in settings.tenants:
        for source in tenant.sources:
            if tenant.id == tenant_id and source.name == source_name:
                return tenant, source
    raise ConfigurationError(
        f"quarantined records of {tenant_id}/{source_name}: no such tenant and source in "
        "the configuration (restore it to replay them, or discard them)")


def _with_due_replays(store: StateStore, tenant: TenantSettings,
                      source: SourceSettings) -> Adapter:
    """The source's adapter, followed by its quarantined records whose reason can clear
    by itself (``AUTO_RETRY_REASONS``) and whose backoff has passed."""
    adapter = build_adapter(source, tenant)
    due = store.issues.due_for_retry(tenant.id, source.name, AUTO_RETRY_REASONS,
                                     datetime.now(UTC), AUTO_RETRY_MAX_ATTEMPTS,
                                     AUTO_RETRY_LIMIT)
    if due:
        store.issues.note_attempts([i.id for i in due], next_retry_at)
    # records held for a store the map did not name: replayed once it names it
    due += [i for i in store.issues.find(tenant=tenant.id, source=source.name,
                                         reason=UNMAPPED_STORE, limit=AUTO_RETRY_LIMIT)
            if isinstance(i.record, dict) and i.record.get("store_id") in tenant.workspaces]
    if not due:
        return adapter
    log.info("replaying quarantined records after the read", tenant=tenant.id,
             source=source.name, records=len(due))
    return FollowedByReplays(adapter, ReplayAdapter(source.name, due, resend_refused=False))


async def run_backfill(settings: Settings, store: StateStore, sticky: StickyClient, *,
                       source_name: str, since: date, until: date, dry_run: bool = False,
                       on_batch: BatchHook | None = None) -> PassReport:
    """One source's ``[since, until)`` read through its backfill adapter, settled through
    the same plan/deliver/ledger path (so nothing delivered before is sent again).
    ``on_batch`` is called after each checkpointed batch (progress display); ``dry_run``
    as for :func:`run_pass`."""
    found = [(t, s) for t in settings.tenants for s in t.sources if s.name == source_name]
    if not found:
        raise ConfigurationError(f"--source {source_name}: no source has that name")
    tenant, source = found[0]
    report = PassReport()
    outcome = await _run_source(tenant, source, build_backfill(source, since, until, tenant), store,
                                sticky, settings, holder_id(), "backfill", dry_run=dry_run,
                                on_batch=on_batch)
    report.outcomes.append(outcome)
    report.total.merge(outcome.summary)
    await forget_in_files(tenant, store, report.total)
    report.total.finish()
    return report


class _StepOutcome(Protocol):
    @property
    def error(self) -> str | None: ...

    def as_dict(self) -> dict[str, Any]: ...


_O = TypeVar("_O", bound=_StepOutcome)


async def _leased_step(tenant: TenantSettings, store: StateStore, step: str, holder: str,
                       trigger: str, ttl: float,
                       begin: Callable[[int], tuple[Awaitable[_O], Callable[[str], _O]]],
                       busy: Callable[[str], _O], run_outcome: Callable[[_O], str]) -> _O:
    """A tenant-wide step (Sticker organization, passes) under its own lease and run
    record: ``begin(run_id)`` gives the work and how to end it as aborted with an error
    (its outcome so far); another holder makes it ``busy(message)``."""
    lease = await claim(store, tenant.id, step, holder, ttl)
    if lease is None:
        message = await busy_message(store, tenant.id, step)
        log.info("step busy: another process runs it", tenant=tenant.id, step=step,
                 detail=message)
        return busy(message)
    try:
        run_id = await off_loop(store.runs.start, tenant.id, step, trigger)
    except BaseException:
        await release(store, lease)
        raise
    held = HeldLease(store, lease, ttl)
    keeper = asyncio.create_task(held.keep())
    work, aborted = begin(run_id)
    try:
        with structlog.contextvars.bound_contextvars(run_id=run_id, tenant=tenant.id,
                                                     source=step):
            outcome = await _unless_lost(work, keeper, held)
    except (StateUnavailable, SQLAlchemyError) as exc:
        failure = exc if isinstance(exc, StateUnavailable) else store.failure(exc)
        log.error("step stopped: the state DB failed", tenant=tenant.id, step=step,
                  error=str(failure))
        raise failure from exc
    except AbortRun as exc:
        outcome = aborted(str(exc))
        log.error("step aborted", tenant=tenant.id, step=step, error=str(exc))
    finally:
        keeper.cancel()
        await release(store, lease)  # even when cancelled
    await off_loop(store.runs.finish, run_id, run_outcome(outcome), outcome.as_dict(),
                   error=outcome.error)
    return outcome


async def _unless_lost(work: Awaitable[_O], keeper: asyncio.Task[None],
                       held: HeldLease) -> _O:
    """``work``'s result; stopped with :class:`LeaseLost` as soon as the keeper finds the
    lease lost (a step that was paused past its lease must not run on beside the new
    holder)."""
    task = asyncio.ensure_future(work)
    try:
        await asyncio.wait({task, keeper}, return_when=asyncio.FIRST_COMPLETED)
    except BaseException:
        task.cancel()
        raise
    if not task.done():
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
        raise LeaseLost(held.lost or f"{held.name}: the lease was lost")
    return task.result()


async def _run_organization(tenant: TenantSettings, store: StateStore,
                            sticker: StickerClient, holder: str,
                            trigger: str, ttl: float) -> OrganizationOutcome:
    def begin(run_id: int) -> tuple[Awaitable[OrganizationOutcome],
                                    Callable[[str], OrganizationOutcome]]:
        step = OrganizationSync(tenant, store, sticker, run_id)

        def aborted(error: str) -> OrganizationOutcome:
            step.outcome.status, step.outcome.error = SetupStatus.ABORTED, error
            return step.outcome

        return step.sync(), aborted

    return await _leased_step(
        tenant, store, STEP, holder, trigger, ttl, begin,
        busy=lambda message: OrganizationOutcome(
            tenant.id, tenant.internal_org_id or tenant.id, status=SetupStatus.BUSY,
            error=message),
        run_outcome=organization_word)


async def run_passes_step(tenant: TenantSettings, store: StateStore, sticky: StickyClient,
                          holder: str, trigger: str, settings: Settings) -> PassesOutcome:
    """Mint the tenant's wanted passes under the step's own lease (busy: another process
    is minting them; nothing to do here)."""
    if not await off_loop(has_pass_work, tenant, store):
        return PassesOutcome(tenant.id)  # nothing to mint: no lease, no run record

    def begin(run_id: int) -> tuple[Awaitable[PassesOutcome], Callable[[str], PassesOutcome]]:
        minter = PassMinter(tenant, store, sticky, settings.sticky.max_in_flight_per_workspace)

        def aborted(error: str) -> PassesOutcome:
            minter.outcome.status, minter.outcome.error = MintStatus.ABORTED, error
            return minter.outcome

        return minter.run(), aborted

    return await _leased_step(
        tenant, store, PASSES_STEP, holder, trigger, settings.state.lease_ttl_seconds, begin,
        busy=lambda message: PassesOutcome(tenant.id, status=MintStatus.BUSY, error=message),
        run_outcome=passes_word)


async def _run_source(tenant: TenantSettings, source: SourceSettings, adapter: Adapter,
                      store: StateStore, sticky: StickyClient, settings: Settings,
                      holder: str, trigger: str,
                      stop: asyncio.Event | None = None, *, dry_run: bool = False,
                      on_batch: BatchHook | None = None) -> SourceOutcome:
    source_name = source.name
    bound = log.bind(tenant=tenant.id, source=source_name)
    ttl = settings.state.lease_ttl_seconds
    lease = await claim(store, tenant.id, source_name, holder, ttl)
    if lease is None:
        message = await busy_message(store, tenant.id, source_name)
        bound.warning("source busy", detail=message)
        return SourceOutcome(tenant.id, source_name, Outcome.BUSY, RunSummary(), message)
    held = HeldLease(store, lease, ttl)
    try:
        run_id = await off_loop(store.runs.start, tenant.id, source_name, trigger)
    except BaseException:
        await release(store, lease)
        raise
    with structlog.contextvars.bound_contextvars(run_id=run_id, tenant=tenant.id,
                                                 source=source_name):
        return await _run_started(tenant, source, adapter, store, sticky, settings, held,
                                  run_id, stop, dry_run=dry_run, on_batch=on_batch)


async def _run_started(tenant: TenantSettings, source: SourceSettings, adapter: Adapter,
                       store: StateStore, sticky: StickyClient, settings: Settings,
                       held: HeldLease, run_id: int,
                       stop: asyncio.Event | None, *, dry_run: bool = False,
                       on_batch: BatchHook | None = None) -> SourceOutcome:
    source_name = source.name
    state_thread = StateThread()
    passes = tenant.passes
    sender = BatchSender(tenant.id, store, sticky, settings.sticky.max_in_flight_per_workspace,
                         state_thread, mint_passes=passes is not None
                         and passes.mint_on_create and not dry_run,
                         pass_rule=pass_rule(passes), lease=held)
    runner = SourceRunner(
        mapping_context(tenant, source_name), adapter, store, sender, source.batch_size,
        run_id, stop, after_commit=not dry_run, on_batch=on_batch,
        plan_slice=DRY_PLAN_SLICE if dry_run else PLAN_SLICE)
    keeper = asyncio.create_task(held.keep())
    try:
        summary = await runner.run()
    except (StateUnavailable, SQLAlchemyError) as exc:
        # the state DB itself: nothing more can be recorded or done in this command
        failure = exc if isinstance(exc, StateUnavailable) else store.failure(exc)
        runner.summary.finish()
        with contextlib.suppress(SQLAlchemyError):
            await off_loop(store.runs.finish, run_id, Outcome.FAILED,
                           runner.summary.as_dict(), error=str(failure))
        log.error("run stopped: the state DB failed", error=str(failure))
        raise failure from exc
    except AbortRun as exc:
        runner.summary.finish()
        runner.summary.aborted.append(f"{tenant.id}/{source_name}: {exc}")
        await off_loop(store.runs.finish, run_id, Outcome.FAILED, runner.summary.as_dict(),
                       error=str(exc))
        log.error("run failed", error=str(exc))
        return SourceOutcome(tenant.id, source_name, Outcome.FAILED, runner.summary, str(exc))
    except asyncio.CancelledError:
        runner.summary.finish()
        await off_loop_shielded(store.runs.finish, run_id, Outcome.CANCELLED,
                                runner.summary.as_dict(),
                                error="cancelled before it settled what it had read")
        log.warning("run cancelled", records=runner.summary.records_read)
        raise
    finally:
        keeper.cancel()
        state_thread.close()
        await release(store, held.lease)  # even when cancelled
    if not dry_run:
        summary.notes.extend(pass_notes(summary.customer_origins, passes))
    outcome = summary.outcome
    await off_loop(store.runs.finish, run_id, outcome, summary.as_dict())
    log.info("run finished", outcome=str(outcome), records=summary.records_read,
             seconds=round(summary.duration, 2))
    return SourceOutcome(tenant.id, source_name, outcome, summary)
