"""Sending one planned batch: customers first, then completed orders, then refunds;
within a phase, many requests in flight per workspace (paced by the workspace limiter).

Every response settles its ledger row at once, in its own transaction: a crash leaves
at most the requests that were in flight unsettled.
"""

from __future__ import annotations

import asyncio

from connector.delivery.sticky import Delivered, StickyClient
from connector.errors import (
    AbortRun,
    MissingDependency,
    RejectedByTarget,
    Retryable,
    TargetUnavailable,
)
from connector.sync.planner import BatchPlan
from connector.sync.settle_queue import SettleQueue
from connector.sync.state_thread import StateThread
from connector.sync.work import CUSTOMER, PHASES, EntryId, Work, WorkState
from state import StateStore
from state.store import Delivery


class BatchSender:
    def __init__(self, tenant: str, store: StateStore, sticky: StickyClient,
                 max_in_flight_per_workspace: int, state_thread: StateThread) -> None:
        self.tenant = tenant
        self.store = store
        self.db = state_thread
        self.settle_queue = SettleQueue(store, state_thread, tenant)
        self.sticky = sticky
        self.max_in_flight = max_in_flight_per_workspace
        # What this run has delivered so far. The next batch is planned while this one
        # is sent, so its plan may not know yet what is being settled right now.
        self.identities: dict[tuple[str, str], str] = {}
        self.settled: dict[EntryId, tuple[str, str]] = {}

    async def send_workspace(self, works: list[Work], plan: BatchPlan) -> None:
        """Send one workspace's share of a batch: customers, then completed orders, then
        refunds (a customer and its events always share a workspace).

        A request that keeps failing transiently raises TargetUnavailable, after every
        other request of its phase has settled; AbortRun errors (refused key) propagate.
        """
        gate = asyncio.Semaphore(self.max_in_flight)

        async def one(work: Work) -> None:
            async with gate:
                await self._deliver(work, plan)

        for number, phase in enumerate(PHASES):
            results = await asyncio.gather(*(one(w) for w in works if w.kind == phase),
                                           return_exceptions=True)
            for result in results:
                if isinstance(result, AbortRun):
                    raise result
            transient = next((r for r in results if isinstance(r, Retryable)), None)
            if transient is not None:
                for later in works:
                    if later.kind in PHASES[number + 1:]:
                        later.state = WorkState.INTERRUPTED
                raise TargetUnavailable(
                    f"Sticky kept failing, stopping this run: {transient}") from transient
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
            if customer_id is None:
                problem = MissingDependency(
                    "customer_not_delivered",
                    f"{staged.kind} {staged.key}: its customer {staged.subject} could not be "
                    f"created in {staged.workspace}")
                await self._fail(work, problem)
                return
            payload["customer_id"] = customer_id
        try:
            if work.kind == CUSTOMER:
                result = await self.sticky.create_customer(staged.workspace, payload,
                                                           staged.idempotency_key)
            else:
                result = await self.sticky.create_event(staged.workspace, payload,
                                                        staged.idempotency_key)
        except RejectedByTarget as problem:
            await self._fail(work, problem)
            return
        except Retryable as exc:
            work.state = WorkState.INTERRUPTED
            await self.db.call(self.store.ledger.note_failure, work.ledger_id, str(exc), 1)
            raise
        await self._settle(work, result, plan)

    async def _settle(self, work: Work, result: Delivered, plan: BatchPlan) -> None:
        assert work.ledger_id is not None and result.remote_id is not None
        staged = work.staged
        identity = (staged.key, staged.workspace) if work.kind == CUSTOMER else None
        await self.settle_queue.delivered(
            Delivery(work.ledger_id, result.remote_id, result.attempts, identity))
        if identity is not None:
            plan.identities[identity] = result.remote_id
            self.identities[identity] = result.remote_id
        self.settled[staged.entry_id] = (staged.payload_hash, result.remote_id)
        work.state = WorkState.SENT

    async def _fail(self, work: Work, problem: RejectedByTarget | MissingDependency) -> None:
        assert work.ledger_id is not None
        work.state = WorkState.FAILED
        work.problem = problem
        await self.db.call(self.store.ledger.mark_rejected, work.ledger_id, str(problem), 1)
