"""Sending one planned batch: customers first, then completed orders, then refunds;
within a phase, many requests in flight per workspace (paced by the workspace limiter).

Every response settles its ledger row at once, in its own transaction: a crash leaves
at most the requests that were in flight unsettled.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict

from connector.delivery.sticky import Delivered, StickyClient
from connector.errors import (
    AbortRun,
    MissingDependency,
    RejectedByTarget,
    Retryable,
    TargetUnavailable,
)
from connector.sync.planner import BatchPlan
from connector.sync.work import CUSTOMER, PHASES, Work, WorkState
from state import StateStore


class BatchSender:
    def __init__(self, tenant: str, store: StateStore, sticky: StickyClient,
                 max_in_flight_per_workspace: int) -> None:
        self.tenant = tenant
        self.store = store
        self.sticky = sticky
        self.max_in_flight = max_in_flight_per_workspace

    async def send(self, plan: BatchPlan) -> None:
        """Send what the plan marked TO_SEND. Raises TargetUnavailable (after settling
        everything that did complete) when a request kept failing transiently."""
        interrupted: Retryable | None = None
        for phase in PHASES:
            works = [w for w in plan.works.values()
                     if w.kind == phase and w.state is WorkState.TO_SEND]
            if interrupted is not None:
                for work in works:
                    work.state = WorkState.INTERRUPTED
                continue
            interrupted = await self._phase(works, plan)
        if interrupted is not None:
            raise TargetUnavailable(f"Sticky kept failing, stopping this run: {interrupted}"
                                    ) from interrupted

    async def _phase(self, works: list[Work], plan: BatchPlan) -> Retryable | None:
        gates: dict[str, asyncio.Semaphore] = defaultdict(
            lambda: asyncio.Semaphore(self.max_in_flight))

        async def one(work: Work) -> None:
            async with gates[work.workspace]:
                await self._deliver(work, plan)

        results = await asyncio.gather(*(one(w) for w in works), return_exceptions=True)
        first_transient: Retryable | None = None
        for result in results:
            if isinstance(result, AbortRun):
                raise result
            if isinstance(result, Retryable):
                first_transient = first_transient or result
            elif isinstance(result, BaseException):
                raise result
        return first_transient

    async def _deliver(self, work: Work, plan: BatchPlan) -> None:
        assert work.ledger_id is not None
        staged = work.staged
        payload = dict(staged.payload)
        if work.kind != CUSTOMER:
            customer_id = plan.identities.get((staged.subject or "", staged.workspace))
            if customer_id is None:
                problem = MissingDependency(
                    "customer_not_delivered",
                    f"{staged.kind} {staged.key}: its customer {staged.subject} could not be "
                    f"created in {staged.workspace}")
                self._fail(work, problem)
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
            self._fail(work, problem)
            return
        except Retryable as exc:
            work.state = WorkState.INTERRUPTED
            self.store.ledger.note_failure(work.ledger_id, str(exc), attempts=1)
            raise
        self._settle(work, result, plan)

    def _settle(self, work: Work, result: Delivered, plan: BatchPlan) -> None:
        assert work.ledger_id is not None and result.remote_id is not None
        staged = work.staged
        if work.kind == CUSTOMER:
            self.store.settle_customer(work.ledger_id, self.tenant, staged.key,
                                       staged.workspace, result.remote_id, result.attempts)
            plan.identities[(staged.key, staged.workspace)] = result.remote_id
        else:
            self.store.ledger.mark_sent(work.ledger_id, result.remote_id, result.attempts)
        work.state = WorkState.SENT

    def _fail(self, work: Work, problem: RejectedByTarget | MissingDependency) -> None:
        assert work.ledger_id is not None
        work.state = WorkState.FAILED
        work.problem = problem
        self.store.ledger.mark_rejected(work.ledger_id, str(problem), attempts=1)
