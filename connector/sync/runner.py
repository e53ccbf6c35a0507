"""One pass over one source: read batches, plan, send, settle, checkpoint."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import structlog

from adapters.base import Adapter, Batch
from adapters.records import RefundRecord, SourceRecord, record_identity, record_to_dict
from connector.delivery.traffic import Traffic
from connector.erasure import CUSTOMER_ERASED
from connector.errors import InvalidRecord, RecordProblem, SkipRecord
from connector.mapping.context import MappingContext
from connector.outcomes import PayloadOutcome
from connector.sync.planner import TARGET, BatchPlan, BatchPlanner
from connector.sync.sender import BatchSender
from connector.sync.source_state import BoundSourceState
from connector.sync.state_thread import ReaderThread
from connector.sync.summary import RunSummary
from connector.sync.work import CUSTOMER, Ticket, WorkState
from state import Disposition, RecordIssue, RecordRef, StateStore

log = structlog.get_logger("connector.sync")

PLAN_SLICE = 50
"""Records planned in one call on the state thread (~10 ms of work): settling answers
never waits long behind planning."""
DRY_PLAN_SLICE = 500
"""In a dry run nothing waits for an answer: larger slices cost less per record."""
READ_AHEAD_BATCHES = 3
"""Records read and planned but not yet checkpointed: at most this many batches' worth
(counted in records: an empty batch, such as a file's end, takes no room) ..."""
MAX_BATCHES_AHEAD = 32
"""... and at most this many batches."""

BatchHook = Callable[[RunSummary, Traffic, int | None], None]
"""Called after each checkpointed batch with the run's summary so far, the Sticky traffic
and the records the adapter expects to read in all (``None``: unknown) (progress
displays); it must be quick (it runs on the event loop)."""


class _ReadAhead:
    """How far reading and planning run ahead of the oldest batch not checkpointed."""

    def __init__(self, records: int, batches: int) -> None:
        self.max_records = records
        self.max_batches = batches
        self.records = 0
        self.batches = 0
        self._changed = asyncio.Condition()

    async def room(self) -> None:
        async with self._changed:
            await self._changed.wait_for(lambda: self.records < self.max_records
                                         and self.batches < self.max_batches)

    def read(self, records: int) -> None:
        self.records += records
        self.batches += 1

    async def committed(self, records: int) -> None:
        async with self._changed:
            self.records -= records
            self.batches -= 1
            self._changed.notify_all()


@dataclass(slots=True, eq=False)
class _InFlight:
    """A planned batch whose payloads are on their way."""

    batch: Batch
    plan: BatchPlan
    remaining: int = 0
    done: asyncio.Event = field(default_factory=asyncio.Event)

    def work_finished(self) -> None:
        self.remaining -= 1
        if self.remaining == 0:
            self.done.set()

    @property
    def interrupted(self) -> bool:
        return any(w.state is WorkState.INTERRUPTED for w in self.plan.works.values())


def plan_slices(records: list[SourceRecord],
                size: int = PLAN_SLICE) -> Iterator[list[SourceRecord]]:
    """Slices of about ``size`` records that never separate an order from the refunds
    that follow it (a refund of an order skipped in the same slice is skipped)."""
    start = 0
    while start < len(records):
        end = min(len(records), start + size)
        while end < len(records):
            after = records[end]
            if not (isinstance(after, RefundRecord)
                    and getattr(records[end - 1], "order_id", None) == after.order_id):
                break
            end += 1
        yield records[start:end]
        start = end


def record_ref(record: SourceRecord) -> RecordRef:
    kind, record_id = record_identity(record)
    return RecordRef(record.origin.locator, kind, record_id)


def disposition_of(problem: RecordProblem) -> Disposition:
    if isinstance(problem, SkipRecord):
        return Disposition.SKIPPED
    if isinstance(problem, InvalidRecord):
        return Disposition.REJECTED
    return Disposition.QUARANTINED


class SourceRunner:
    def __init__(self, ctx: MappingContext, adapter: Adapter, store: StateStore,
                 sender: BatchSender, batch_size: int, run_id: int | None,
                 stop: asyncio.Event | None = None, *, after_commit: bool = True,
                 on_batch: BatchHook | None = None, plan_slice: int = PLAN_SLICE) -> None:
        self.db = sender.db
        self.ctx = ctx
        self.adapter = adapter
        self.store = store
        self.sender = sender
        self.batch_size = batch_size
        self.run_id = run_id
        self.planner = BatchPlanner(ctx, store, retry_rejected=adapter.replays)
        self.summary = RunSummary()
        self.stop = stop
        """Set by the daemon on SIGTERM: read no further batch, settle what was read."""
        self.after_commit = after_commit
        """False in a dry run: the source is left as it is (no ``batch.after_commit``)."""
        self.plan_slice = plan_slice
        self.on_batch = on_batch
        self._erased = False
        self._committed = 0
        """Batches checkpointed so far in this run."""

    async def run(self) -> RunSummary:
        """Read and plan ahead, send per workspace, commit in order.

        - The source is read on a reader thread (its page fetches and backoff sleeps
          never hold up settlement); planning runs on the state thread (as do all DB
          writes), up to ``READ_AHEAD_BATCHES`` batches' worth of records ahead of the
          oldest uncommitted batch, in
          slices of ``PLAN_SLICE`` records so that settling responses never waits long
          behind them.
        - Every payload goes to its workspace's lane as soon as it is planned and what it
          depends on (its customer, its order) has finished: there is no phase or batch
          boundary at which a workspace waits (``sender.py``).
        - A batch is checkpointed once all its payloads have finished, strictly in order.
        """
        state = BoundSourceState(self.store, self.ctx.tenant, self.ctx.source,
                                 via=self.db.run_sync)
        batches = iter(self.adapter.read(state, self.batch_size))
        reader = ReaderThread()
        ahead = _ReadAhead(READ_AHEAD_BATCHES * self.batch_size, MAX_BATCHES_AHEAD)
        inflight: asyncio.Queue[_InFlight | BaseException | None] = asyncio.Queue()
        producer = asyncio.ensure_future(self._produce(batches, reader, ahead, inflight))
        try:
            while (item := await inflight.get()) is not None:
                if isinstance(item, BaseException):
                    raise item
                await item.done.wait()
                if item.interrupted:
                    raise self.sender.failure or RuntimeError("deliveries were interrupted")
                await self._commit(item)
                self._committed += 1
                await ahead.committed(len(item.batch.records))
        except asyncio.CancelledError:
            # cancelled (the daemon's drain deadline): requests in flight are abandoned,
            # their rows stay pending and go out again, under the same keys, next run
            self.sender.cancel()
            raise
        finally:
            producer.cancel()
            try:
                await asyncio.gather(producer, return_exceptions=True)
                await self.sender.close()  # what is in flight settles; nothing more is sent
            except asyncio.CancelledError:  # cancelled again meanwhile (a drain deadline)
                self.sender.cancel()
                raise
            finally:
                reader.close()
        self.summary.warnings.update(self.adapter.notices)
        self.summary.notes.extend(self.adapter.remarks)
        self.summary.attention.extend(self.adapter.attention)
        self.summary.attention.extend(self._unmapped_stores())
        self.summary.waiting.extend(self.adapter.waiting)
        if self._erased:
            await self.db.call(self.store.erasures.settle_storage)
        self.summary.finish()
        return self.summary

    def _unmapped_stores(self) -> list[str]:
        ctx = self.ctx
        went = ("held in quarantine until a workspace is named for it (unmapped_stores = "
                '"hold"), then replayed') if ctx.hold_unmapped else (
            f"sent to the default workspace {ctx.default_workspace}")
        return [f"store {store!r} is not in [tenants.workspaces] of tenant {ctx.tenant}: "
                f"{n} record(s) {went}; map it with `{json.dumps(store)} = \"ws_...\"`"
                for store, n in sorted(self.summary.unmapped_stores.items())]

    async def _produce(self, batches: Iterator[Batch], reader: ReaderThread,
                       ahead: _ReadAhead,
                       inflight: asyncio.Queue[_InFlight | BaseException | None]) -> None:
        try:
            while True:
                await ahead.room()
                if self.stop is not None and self.stop.is_set():
                    self.summary.stopped = True
                    break
                # the plan below reads what these batches settled from the ledger
                settled_before = self._committed
                batch = await reader.call(next, batches, None)
                if batch is None:
                    break
                ahead.read(len(batch.records))
                plan = BatchPlan()
                for records in plan_slices(batch.records, self.plan_slice):
                    plan.absorb(await self.db.call(self.planner.plan, records, self.run_id))
                item = _InFlight(batch, plan)
                item.remaining = self.sender.submit(plan, item, settled_before)
                if item.remaining == 0:
                    item.done.set()
                inflight.put_nowait(item)
        except Exception as exc:  # noqa: BLE001 - handed to the committer, raised there
            inflight.put_nowait(exc)
        else:
            inflight.put_nowait(None)

    async def _commit(self, item: _InFlight) -> None:
        self._count_works(item.plan)
        batch = item.batch
        self.summary.records_read += len(batch.records)
        self.summary.locations_recorded += item.plan.locations_recorded
        self.summary.unmapped_stores.update(item.plan.unmapped)
        issues, delivered = self._settle_tickets(item.plan, batch.stream)
        await self._note_erasures(item.plan)
        await self.db.call(self.store.commit_batch, self.ctx.tenant, self.ctx.source,
                           batch.stream, batch.position if batch.moves_cursor else None,
                           issues, delivered, self.run_id,
                           lease=None if self.sender.lease is None else self.sender.lease.lease)
        if batch.after_commit is not None and self.after_commit:
            await self.db.call(batch.after_commit)
        if self.on_batch is not None:
            self.on_batch(self.summary, self.sender.sticky.traffic,
                          self.adapter.expected_records)
        if batch.records:
            log.debug("batch settled", stream=batch.stream, records=len(batch.records),
                      issues=len(issues))

    async def _note_erasures(self, plan: BatchPlan) -> None:
        """Say what the erasures of this batch left for a person; a re-read of a customer
        erased earlier has the kept files looked through again."""
        for purged in plan.erased:
            self._erased = True
            self.summary.customers_erased += 1
            for workspace, remote in purged.sticky_ids:
                self.summary.attention.append(
                    f"erase in Sticky: {remote} (workspace {workspace}): the source erased "
                    "this customer; the connector purged what it held, the Sticky API "
                    "documents no delete (`sticky-sync erasures done` once erased there)")
        if not plan.erased and any(problem.reason == CUSTOMER_ERASED
                                   for _, problem in plan.problems):
            await self.db.call(self.store.erasures.reopen_files, self.ctx.tenant)

    def _count_works(self, plan: BatchPlan) -> None:
        for work in plan.works.values():
            outcome = {WorkState.SENT: work.previous,
                       WorkState.UNCHANGED: PayloadOutcome.UNCHANGED,
                       WorkState.FAILED: PayloadOutcome.REJECTED}.get(work.state)
            if outcome is not None:
                self.summary.count(TARGET, work.workspace, outcome)
            if work.kind == CUSTOMER:
                if work.state is WorkState.SENT:
                    if work.had_identity:
                        self.summary.customers_updated += 1
                    else:
                        self.summary.customers_created += 1
                    if work.origin is not None:
                        self.summary.customer_origins[work.origin] += 1
                elif work.state is WorkState.UNCHANGED and work.from_customer_row:
                    self.summary.customers_unchanged += 1
            elif work.state is WorkState.SENT:
                self.summary.events_sent[work.kind] += 1
            elif work.state is WorkState.UNCHANGED:
                self.summary.events_unchanged += 1

    def _settle_tickets(self, plan: BatchPlan,
                        stream: str) -> tuple[list[RecordIssue], list[RecordRef]]:
        issues: list[RecordIssue] = []
        delivered: list[RecordRef] = []
        problems = {id(ticket): problem for ticket, problem in plan.problems}
        for ticket in plan.tickets:
            self.summary.warnings.update(ticket.warnings)
            problem = problems.get(id(ticket)) or self._failed_need(plan, ticket)
            if problem is None:
                delivered.append(record_ref(ticket.record))
                continue
            disposition = disposition_of(problem)
            if not ticket.needs:  # refused before any payload existed
                self.summary.count(TARGET, "-", PayloadOutcome(disposition))
            {Disposition.SKIPPED: self.summary.skipped,
             Disposition.REJECTED: self.summary.rejected,
             Disposition.QUARANTINED: self.summary.quarantined}[disposition][problem.reason] += 1
            if problem.reason == CUSTOMER_ERASED:
                continue  # counted, never stored: a row about them would name them again
            issue = self._issue(ticket, stream, problem, disposition)
            issues.append(issue)
            if disposition != Disposition.SKIPPED:
                log.warning("record not delivered", disposition=disposition,
                            reason=problem.reason, field=problem.field, detail=issue.message)
        return issues, delivered

    @staticmethod
    def _failed_need(plan: BatchPlan, ticket: Ticket) -> RecordProblem | None:
        """Why a record was not delivered, if it was not: judged by its own payload (an
        order's event, a refund's), not by the customer update planned beside it: an
        event that went out under the customer's known Sticky id was delivered even if
        Sticky refused that update (the customer's own record carries the refusal)."""
        needs = [plan.works[n] for n in ticket.needs]
        own = [w for w in needs if w.kind != CUSTOMER] or needs
        return next((w.problem for w in own if w.state is WorkState.FAILED), None)

    @staticmethod
    def _issue(ticket: Ticket, stream: str, problem: RecordProblem,
               disposition: str) -> RecordIssue:
        record = ticket.record
        origin = record.origin
        ref = record_ref(record)
        return RecordIssue(
            stream=stream, locator=origin.locator, row=origin.row,
            record_key=getattr(record, "customer_id", None) or getattr(record, "order_id", None)
            or getattr(record, "refund_id", None) or getattr(record, "store_id", None),
            disposition=disposition, reason=problem.reason, field=problem.field,
            message=f"{origin.locator}: {problem}", raw=dict(record.raw),
            record=record_to_dict(record) if disposition == Disposition.QUARANTINED else None,
            record_kind=ref.kind, record_id=ref.record_id,
        )
