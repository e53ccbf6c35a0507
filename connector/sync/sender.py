"""Sending one planned batch: customers first, then completed orders, then refunds;
within a phase, many requests in flight per workspace (paced by the workspace limiter).

Every response settles its ledger row at once, in its own transaction: a crash leaves
at most the requests that were in flight unsettled.
"""

from __future__ import annotations

import asyncio
import time

import structlog

from connector.delivery.sticky import Delivered, StickyClient
from connector.errors import (
    AbortRun,
    GaveUp,
    MissingDependency,
    RejectedByTarget,
    Retryable,
    TargetUnavailable,
)
from connector.sync.leasing import HeldLease
from connector.sync.pass_rule import PassRule
from connector.sync.planner import BatchPlan
from connector.sync.settle_queue import SettleQueue
from connector.sync.state_thread import StateThread
from connector.sync.work import (
    CUSTOMER,
    ORDER_COMPLETED,
    ORDER_REFUNDED,
    PHASES,
    EntryId,
    Work,
    WorkState,
)
from state import StateStore
from state.store import Delivery

log = structlog.get_logger("connector.sync")

TARGET_UP_WINDOW_SECONDS = 30.0
"""A payload whose retries ran out is given up (quarantined, replayed later) rather than
stopping the run when its workspace accepted another payload during its phase or in the
30 s before it: the target is up, the payload is the problem."""


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
        # What this run has delivered so far. The next batch is planned while this one
        # is sent, so its plan may not know yet what is being settled right now.
        self.identities: dict[tuple[str, str], str] = {}
        self.settled: dict[EntryId, tuple[str, str]] = {}
        self.given_up: set[EntryId] = set()
        """Payloads given up in this run (their dependents are held back as well)."""
        self.refused: dict[EntryId, str] = {}
        """Orders refused in this run (a 4xx, or their customer missing) → why: a refund
        of one is held as ``unknown_order`` (replayed once the order is delivered) instead
        of being sent for an order Sticky does not hold."""
        self.last_accepted: dict[str, float] = {}
        """Workspace → when it last accepted a payload (monotonic), to tell a poison
        record from an outage."""

    async def send_workspace(self, works: list[Work], plan: BatchPlan) -> None:
        """Send one workspace's share of a batch: customers, then completed orders, then
        refunds (a customer and its events always share a workspace).

        A request that keeps failing transiently raises TargetUnavailable, after every
        other request of its phase has settled, unless the workspace accepted other
        payloads meanwhile (``TARGET_UP_WINDOW_SECONDS``): then the target is up and that
        payload alone is given up (quarantined as
        ``retries_exhausted``, its row left pending for a later replay). AbortRun errors
        (refused key) propagate.
        """
        gate = asyncio.Semaphore(self.max_in_flight)

        async def one(work: Work) -> None:
            async with gate:
                await self._deliver(work, plan)

        for number, phase in enumerate(PHASES):
            phase_started = time.monotonic()
            results = await asyncio.gather(*(one(w) for w in works if w.kind == phase),
                                           return_exceptions=True)
            for result in results:
                if isinstance(result, AbortRun):
                    raise result
            transient = next((r for r in results if isinstance(r, Retryable)), None)
            in_phase = [w for w in works if w.kind == phase]
            workspace = in_phase[0].workspace if in_phase else ""
            if transient is not None and self.last_accepted.get(workspace, -1e9) >= (
                    phase_started - TARGET_UP_WINDOW_SECONDS):
                for work, result in zip(in_phase, results, strict=True):
                    if isinstance(result, Retryable):
                        log.warning("payload given up for this run", kind=work.kind,
                                    key=work.staged.key, error=str(result))
                        work.state = WorkState.FAILED
                        self.given_up.add(work.entry_id)
                        work.problem = GaveUp(
                            "retries_exhausted", f"{work.kind} {work.staged.key} in "
                            f"{work.workspace}: gave up for this run: {result}")
                transient = None
                results = [r for r in results if not isinstance(r, Retryable)]
            if transient is not None:
                for later in works:
                    if later.kind in PHASES[number + 1:]:
                        later.state = WorkState.INTERRUPTED
                raise TargetUnavailable(
                    f"Sticky kept failing, stopping this run (sticky.base_url = "
                    f"{self.sticky.base_url}): {transient}") from transient
            for result in results:
                if isinstance(result, BaseException):
                    raise result

    async def _deliver(self, work: Work, plan: BatchPlan) -> None:
        assert work.ledger_id is not None
        staged = work.staged
        done = self.settled.get(staged.entry_id)
        if done is not None and done[0] == staged.payload_hash:
            # Settled earlier in this run (planned again by the read-ahead): no request.
            await self.settle_queue.delivered(Delivery(work.ledger_id, done[1], 0))
            work.state = WorkState.UNCHANGED
            return
        payload = dict(staged.payload)
        if work.kind != CUSTOMER:
            subject = (staged.subject or "", staged.workspace)
            customer_id = plan.identities.get(subject) or self.identities.get(subject)
            blocker = self._gave_up_dependency(work, plan)
            if blocker is not None:
                # what it depends on may go out on a later replay: stay pending as well
                work.state, work.problem = WorkState.FAILED, blocker
                self.given_up.add(staged.entry_id)
                await self.db.call(self.store.ledger.note_failure, work.ledger_id,
                                   str(blocker), 0)
                return
            refused_order = self._refused_order(work)
            if refused_order is not None:
                await self._fail(work, refused_order)
                return
            if customer_id is None:
                problem = MissingDependency(
                    "customer_not_delivered",
                    f"{staged.kind} {staged.key}: its customer {staged.subject} could not be "
                    f"created in {staged.workspace}")
                await self._fail(work, problem)
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
        await self._settle(work, result, plan)

    def _gave_up_dependency(self, work: Work, plan: BatchPlan) -> GaveUp | None:
        """The customer (or, for a refund, the order) this payload needs, if it was given
        up in this run. (One given up by an earlier run is pending with an error: the
        planner re-plans a customer, and holds back a refund of such an order.)"""
        staged = work.staged
        needs = [(staged.workspace, CUSTOMER, staged.subject or "")]
        if work.kind == ORDER_REFUNDED and staged.parent_key:
            needs.append((staged.workspace, ORDER_COMPLETED, staged.parent_key))
        for entry_id in needs:
            dependency = plan.works.get(entry_id)
            if entry_id in self.given_up or (
                    dependency is not None and isinstance(dependency.problem, GaveUp)):
                return GaveUp("retries_exhausted", f"{staged.kind} {staged.key}: "
                              f"{entry_id[1]} {entry_id[2]} was given up for this run")
        return None

    def _refused_order(self, work: Work) -> MissingDependency | None:
        """For a refund: its order, if Sticky refused it in this run."""
        staged = work.staged
        if work.kind != ORDER_REFUNDED or not staged.parent_key:
            return None
        why = self.refused.get((staged.workspace, ORDER_COMPLETED, staged.parent_key))
        if why is None:
            return None
        return MissingDependency(
            "unknown_order", f"refund {staged.key}: its order {staged.parent_key} was "
            f"refused by Sticky in this run ({why}); held until the order is delivered")

    async def _settle(self, work: Work, result: Delivered, plan: BatchPlan) -> None:
        assert work.ledger_id is not None and result.remote_id is not None
        staged = work.staged
        identity = (staged.key, staged.workspace) if work.kind == CUSTOMER else None
        wants_pass = False
        if identity is not None and not work.had_identity and work.previous == "new":
            work.origin = self.pass_rule.origin(result.status, result.body,
                                                work.first_staged_at)
            wants_pass = self.mint_passes and self.pass_rule.wants_pass(work.origin)
        await self.settle_queue.delivered(
            Delivery(work.ledger_id, result.remote_id, result.attempts, identity, wants_pass))
        if identity is not None:
            plan.identities[identity] = result.remote_id
            self.identities[identity] = result.remote_id
        self.settled[staged.entry_id] = (staged.payload_hash, result.remote_id)
        self.last_accepted[staged.workspace] = time.monotonic()
        work.state = WorkState.SENT

    async def _fail(self, work: Work, problem: RejectedByTarget | MissingDependency) -> None:
        assert work.ledger_id is not None
        work.state = WorkState.FAILED
        work.problem = problem
        if work.kind == ORDER_COMPLETED:
            self.refused[work.staged.entry_id] = str(problem)
        await self.db.call(self.store.ledger.mark_rejected, work.ledger_id, str(problem), 1)
