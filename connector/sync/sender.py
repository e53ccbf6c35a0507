"""Delivering planned payloads: each waits only for its own prerequisites.

Every workspace has a lane of ``max_in_flight_per_workspace`` workers pulling *ready*
payloads (each paced by the workspace limiter). A payload is ready once the works it
depends on have finished: an event waits for its customer, a refund for its order, and a
payload planned again while an earlier plan of the same ledger entry is still on its way
waits for that one. Everything else keeps flowing: there is no phase or batch boundary
at which a workspace idles (docs/architecture.md, "The path of one record").

Every response settles its ledger row before its worker takes the next payload (a group
commit, ``settle_queue.py``): a crash leaves at most the requests in flight unsettled.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from dataclasses import dataclass, field

import structlog

from connector.delivery.sticky import Delivered, StickyClient
from connector.errors import (
    AbortRun,
    GaveUp,
    MissingDependency,
    RecordProblem,
    RejectedByTarget,
    Retryable,
    TargetUnavailable,
)
from connector.outcomes import PayloadOutcome
from connector.sync.leasing import HeldLease
from connector.sync.pass_rule import PassRule
from connector.sync.planner import BatchPlan
from connector.sync.settle_queue import SettleQueue
from connector.sync.state_thread import StateThread
from connector.sync.work import (
    CUSTOMER,
    ORDER_COMPLETED,
    ORDER_REFUNDED,
    EntryId,
    Work,
    WorkGroup,
    WorkState,
)
from state import StateStore
from state.store import Delivery

log = structlog.get_logger("connector.sync")

TARGET_UP_WINDOW_SECONDS = 30.0
"""A payload whose retries ran out is given up (quarantined, replayed later) rather than
stopping the run when Sticky (any workspace) accepted another payload while it was tried
or in the 30 s before: the target is up, the payload is the problem."""

DONE = frozenset({WorkState.SENT, WorkState.UNCHANGED})


@dataclass(slots=True)
class _Lane:
    ready: asyncio.Queue[Work | None] = field(default_factory=asyncio.Queue)
    workers: list[asyncio.Task[None]] = field(default_factory=list)


class BatchSender:
    def __init__(self, tenant: str, store: StateStore, sticky: StickyClient,
                 max_in_flight_per_workspace: int, state_thread: StateThread, *,
                 mint_passes: bool = False, pass_rule: PassRule | None = None,
                 lease: HeldLease | None = None) -> None:
        self.tenant = tenant
        self.lease = lease
        """The source's lease: checked before every request attempt, and fencing every
        settle (``None``: a sender used on its own, in a test)."""
        self.mint_passes = mint_passes
        """A customer this run creates in Sticky is marked for a wallet pass, in the
        transaction that records it."""
        self.pass_rule = pass_rule or PassRule()
        """How an answer tells a customer created by this connector from one that was
        already in Sticky (connector/sync/pass_rule.py)."""
        self.store = store
        self.db = state_thread
        self.settle_queue = SettleQueue(store, state_thread, tenant,
                                        None if lease is None else lease.lease)
        self.sticky = sticky
        self.max_in_flight = max_in_flight_per_workspace
        self.failure: BaseException | None = None
        """What stopped this run's deliveries (nothing more is sent once it is set)."""
        self.last_accepted = -1e9
        """When Sticky (any workspace) last accepted a payload (monotonic), to tell a
        poison record from an outage."""
        self._lanes: dict[str, _Lane] = {}
        self._latest: dict[EntryId, Work] = {}
        """The last work submitted per ledger entry, for as long as a plan made before
        it settled may still be submitted."""
        self._submitted: deque[list[Work]] = deque()
        """The works of each batch submitted and not forgotten yet, in order."""
        self._forgotten = 0
        """Batches whose works were forgotten (the first ``_submitted`` is the next)."""
        self._closing = False

    # -- submitting ---------------------------------------------------------------
    def submit(self, plan: BatchPlan, group: WorkGroup, settled_before: int) -> int:
        """Queue a planned batch's payloads; returns how many will be sent (or refused,
        given up, interrupted): ``group.work_finished`` is called once for each.

        A plan is made against committed state: what an earlier batch of this run has
        on its way is linked here instead, as a prerequisite. ``settled_before``: the
        batches (in submission order) that were all settled and checkpointed before
        this plan was made: the plan read their outcome from the ledger."""
        self._forget(settled_before)
        works = list(plan.works.values())
        to_send = 0
        for work in works:
            if work.state is not WorkState.TO_SEND:
                work.finished = True
            else:
                to_send += 1
                work.group = group
                work.identities = plan.identities
                self._link(work, plan)
        for work in works:
            self._latest[work.entry_id] = work
            if work.state is WorkState.TO_SEND and work.blocked_by == 0:
                self._lane(work.workspace).ready.put_nowait(work)
        self._submitted.append(works)
        return to_send

    def _link(self, work: Work, plan: BatchPlan) -> None:
        staged = work.staged
        earlier = self._latest.get(staged.entry_id)
        prerequisites = [] if earlier is None or earlier is work else [earlier]
        if work.kind != CUSTOMER and staged.subject:
            customer_id = (staged.workspace, CUSTOMER, staged.subject)
            customer = plan.works.get(customer_id) or self._latest.get(customer_id)
            if customer is not None:
                prerequisites.append(customer)
        if work.kind == ORDER_REFUNDED and staged.parent_key:
            order_id = (staged.workspace, ORDER_COMPLETED, staged.parent_key)
            order = plan.works.get(order_id) or self._latest.get(order_id)
            if order is not None:
                prerequisites.append(order)
        work.after = prerequisites
        for prerequisite in prerequisites:
            if not prerequisite.finished:
                work.blocked_by += 1
                prerequisite.dependents.append(work)

    def _forget(self, settled_before: int) -> None:
        """Works of batches settled before the plan at hand was made need no longer be
        linked (the plan read their outcome from the ledger): memory stays bounded."""
        while self._submitted and self._forgotten < settled_before:
            for work in self._submitted.popleft():
                if self._latest.get(work.entry_id) is work:
                    del self._latest[work.entry_id]
            self._forgotten += 1

    def _lane(self, workspace: str) -> _Lane:
        lane = self._lanes.get(workspace)
        if lane is None:
            lane = self._lanes[workspace] = _Lane()
            lane.workers = [asyncio.ensure_future(self._work(workspace, lane))
                            for _ in range(self.max_in_flight)]
        return lane

    # -- the lanes ------------------------------------------------------------------
    async def _work(self, workspace: str, lane: _Lane) -> None:
        # each worker is its own task: what it logs carries its workspace
        structlog.contextvars.bind_contextvars(workspace=workspace)
        while (work := await lane.ready.get()) is not None:
            try:
                await self._attempt(work)
            finally:
                self._finish(work)

    async def _attempt(self, work: Work) -> None:
        if self.failure is not None or self._closing:
            work.state = WorkState.INTERRUPTED
            return
        started = time.monotonic()
        try:
            await self._deliver(work)
        except AbortRun as exc:
            work.state = WorkState.INTERRUPTED
            self._stop_run(exc)
        except Retryable as exc:
            self._exhausted(work, exc, started)
        except Exception as exc:  # noqa: BLE001 - the run stops; the runner raises it
            work.state = WorkState.INTERRUPTED
            self._stop_run(exc)

    def _finish(self, work: Work) -> None:
        work.finished = True
        group, work.group = work.group, None
        if group is not None:
            group.work_finished()
        for dependent in work.dependents:
            dependent.blocked_by -= 1
            if dependent.blocked_by == 0:
                self._lane(dependent.workspace).ready.put_nowait(dependent)
        # only its own delivery read these: dropped, a chain of works planned again batch
        # after batch does not keep every batch alive
        work.dependents, work.after, work.identities = [], [], {}

    def _stop_run(self, exc: BaseException) -> None:
        if self.failure is None:
            self.failure = exc

    def _exhausted(self, work: Work, exc: Retryable, started: float) -> None:
        """Retries ran out: give this payload up if Sticky (any workspace) is accepting
        others, else the target is down and the run stops (after what is in flight settles)."""
        workspace = work.workspace
        # Sticky is one API: any workspace's acceptance says it is up (a payload alone in
        # its workspace that always fails is a poison record, not an outage)
        if self.last_accepted >= started - TARGET_UP_WINDOW_SECONDS:
            log.warning("payload given up for this run", kind=work.kind,
                        key=work.staged.key, error=str(exc))
            work.state = WorkState.FAILED
            work.problem = GaveUp("retries_exhausted", f"{work.kind} {work.staged.key} in "
                                  f"{workspace}: gave up for this run: {exc}")
            return
        work.state = WorkState.INTERRUPTED
        stopped = TargetUnavailable(f"Sticky kept failing, stopping this run (sticky.base_url"
                                    f" = {self.sticky.base_url}): {exc}")
        stopped.__cause__ = exc
        self._stop_run(stopped)

    async def close(self) -> None:
        """Send nothing more; wait for the requests in flight to settle."""
        self._closing = True
        for lane in self._lanes.values():
            for _ in lane.workers:
                lane.ready.put_nowait(None)
        await asyncio.gather(*(w for lane in self._lanes.values() for w in lane.workers),
                             return_exceptions=True)

    def cancel(self) -> None:
        """Abandon the requests in flight (their rows stay pending: sent again, under the
        same keys, next run)."""
        for lane in self._lanes.values():
            for worker in lane.workers:
                worker.cancel()

    # -- one payload ------------------------------------------------------------------
    async def _deliver(self, work: Work) -> None:
        assert work.ledger_id is not None
        staged = work.staged
        earlier = next((w for w in work.after if w.entry_id == staged.entry_id), None)
        if earlier is not None:
            if work.kind == CUSTOMER and earlier.remote_id is not None:
                # it exists at Sticky under that id, whatever becomes of this update:
                # this request updates it (counted so, and wants no second pass)
                work.remote_id = earlier.remote_id
                work.had_identity = True
                work.previous = PayloadOutcome.CHANGED
            if await self._same_as(work, earlier):
                return
        payload = dict(staged.payload)
        if work.kind != CUSTOMER:
            # what it depends on may go out on a later replay (given up), or be
            # delivered later (a refused order): held, its row pending, not refused
            held = self._given_up_prerequisite(work) or self._refused_order(work)
            if held is not None:
                await self._hold(work, held)
                return
            customer_id = self._customer_id(work)
            if customer_id is None:
                await self._fail(work, MissingDependency(
                    "customer_not_delivered",
                    f"{staged.kind} {staged.key}: its customer {staged.subject} could not "
                    f"be created in {staged.workspace}"))
                return
            payload["customer_id"] = customer_id
        # a holder that lost its source sends nothing more, not even a retry
        guard = None if self.lease is None else self.lease.ensure
        try:
            if work.kind == CUSTOMER:
                result = await self.sticky.create_customer(
                    staged.workspace, payload, staged.idempotency_key, before_attempt=guard)
            else:
                result = await self.sticky.create_event(
                    staged.workspace, payload, staged.idempotency_key, before_attempt=guard)
        except RejectedByTarget as problem:
            await self._fail(work, problem)
            return
        except Retryable as exc:
            work.state = WorkState.INTERRUPTED
            await self.db.call(self.store.ledger.note_failure, work.ledger_id, str(exc), 1)
            raise
        await self._settle(work, result)

    async def _same_as(self, work: Work, earlier: Work) -> bool:
        """The same entry was on its way for an earlier plan of this run: take its outcome
        without a request (True), or send this one after all (False). An event delivered
        by the earlier plan is not sent again even with other content: events are
        immutable at Sticky, a second one would award points twice."""
        assert work.ledger_id is not None
        same = earlier.staged.payload_hash == work.staged.payload_hash
        if earlier.state in DONE and earlier.remote_id is not None and (
                same or work.kind != CUSTOMER):
            if work.staged.idempotency_key != earlier.staged.idempotency_key:
                await self.settle_queue.delivered(Delivery(
                    work.ledger_id, earlier.remote_id, 0, key=self._settled_under(work)))
            # else the row is the one the earlier answer settled, after this plan staged
            # it (the plan found it pending): nothing to write
            work.remote_id = earlier.remote_id
            work.state = WorkState.UNCHANGED
            return True
        if not same:
            return False
        if earlier.state is WorkState.FAILED and isinstance(earlier.problem, GaveUp):
            await self._hold(work, earlier.problem)
            return True
        if earlier.state is WorkState.FAILED and isinstance(earlier.problem, RejectedByTarget):
            await self._fail(work, earlier.problem)
            return True
        return False

    def _given_up_prerequisite(self, work: Work) -> GaveUp | None:
        """The customer (or, for a refund, the order) this payload needs, if it was given
        up in this run. (One given up by an earlier run is pending with an error: the
        planner re-plans a customer, and holds back a refund of such an order.)"""
        staged = work.staged
        for prerequisite in work.after:
            if prerequisite.entry_id != staged.entry_id and isinstance(
                    prerequisite.problem, GaveUp):
                return GaveUp("retries_exhausted", f"{staged.kind} {staged.key}: "
                              f"{prerequisite.kind} {prerequisite.staged.key} was given up "
                              "for this run")
        return None

    @staticmethod
    def _refused_order(work: Work) -> MissingDependency | None:
        """For a refund: its order, if Sticky refused it (in this run or before)."""
        staged = work.staged
        if work.kind != ORDER_REFUNDED:
            return None
        order = next((w for w in work.after if w.kind == ORDER_COMPLETED), None)
        if order is None or order.state is not WorkState.FAILED:
            return None
        return MissingDependency(
            "unknown_order", f"refund {staged.key}: its order {staged.parent_key} was "
            f"refused by Sticky ({order.problem}); held until the order is delivered")

    @staticmethod
    def _customer_id(work: Work) -> str | None:
        """The Sticky id of the event's customer: from its delivery in this run, else as
        the ledger knew it when the batch was planned."""
        staged = work.staged
        for prerequisite in work.after:
            if prerequisite.kind == CUSTOMER and prerequisite.remote_id is not None:
                return prerequisite.remote_id
        return work.identities.get((staged.subject or "", staged.workspace))

    async def _settle(self, work: Work, result: Delivered) -> None:
        assert work.ledger_id is not None and result.remote_id is not None
        staged = work.staged
        identity = (staged.key, staged.workspace) if work.kind == CUSTOMER else None
        wants_pass = False
        if identity is not None and not work.had_identity and work.previous == PayloadOutcome.NEW:
            work.origin = self.pass_rule.origin(result.status, result.body,
                                                work.first_staged_at)
            wants_pass = self.mint_passes and self.pass_rule.wants_pass(work.origin)
        await self.settle_queue.delivered(
            Delivery(work.ledger_id, result.remote_id, result.attempts, identity, wants_pass,
                     key=self._settled_under(work)))
        work.remote_id = result.remote_id
        self.last_accepted = time.monotonic()
        work.state = WorkState.SENT

    async def _hold(self, work: Work, problem: RecordProblem) -> None:
        """Not sent in this run, its row left pending with why (a replay sends it)."""
        assert work.ledger_id is not None
        work.state, work.problem = WorkState.FAILED, problem
        await self.db.call(self.store.ledger.note_failure, work.ledger_id, str(problem), 0)

    async def _fail(self, work: Work, problem: RecordProblem) -> None:
        assert work.ledger_id is not None
        work.state = WorkState.FAILED
        work.problem = problem
        await self.db.call(self.store.ledger.mark_rejected, work.ledger_id, str(problem), 1,
                           work.staged.idempotency_key)

    @staticmethod
    def _settled_under(work: Work) -> str | None:
        """A customer's row is settled only while it holds this request (a later plan may
        have re-staged it with changed content, still to be sent); any delivered version
        of an event settles its row (events are immutable at Sticky)."""
        return work.staged.idempotency_key if work.kind == CUSTOMER else None
