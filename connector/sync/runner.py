"""One pass over one source: read batches, plan, send, settle, checkpoint."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable, Iterator
from typing import Any

import structlog

from adapters.base import Adapter, Batch
from connector.errors import InvalidRecord, RecordProblem, SkipRecord
from connector.mapping.context import MappingContext
from connector.sync.planner import BatchPlan, BatchPlanner
from connector.sync.sender import BatchSender
from connector.sync.source_state import BoundSourceState
from connector.sync.summary import RunSummary
from connector.sync.work import CUSTOMER, Ticket, WorkState
from state import QUARANTINED, REJECTED, SKIPPED, RecordIssue, StateStore

log = structlog.get_logger("connector.sync")

PLAN_SLICE = 50
"""Records planned in one call on the state thread (~10 ms of work)."""


def disposition_of(problem: RecordProblem) -> str:
    if isinstance(problem, SkipRecord):
        return SKIPPED
    if isinstance(problem, InvalidRecord):
        return REJECTED
    return QUARANTINED


class SourceRunner:
    def __init__(self, ctx: MappingContext, adapter: Adapter, store: StateStore,
                 sender: BatchSender, batch_size: int, run_id: int | None,
                 on_batch: Callable[[], None] | None = None) -> None:
        self.db = sender.db
        self.ctx = ctx
        self.adapter = adapter
        self.store = store
        self.sender = sender
        self.batch_size = batch_size
        self.run_id = run_id
        self.on_batch = on_batch
        self.planner = BatchPlanner(ctx, store)
        self.summary = RunSummary()

    async def run(self) -> RunSummary:
        """Plan batch N+1 while batch N is being sent.

        Reading the source and planning run on the state thread (as do all DB writes),
        so the workspace limiters stay busy across batch boundaries. Planning goes in
        slices of ``PLAN_SLICE`` records so that settling the responses of batch N
        never waits long behind it. Batches are sent, settled and committed in order.
        """
        state = BoundSourceState(self.store, self.ctx.tenant, self.ctx.source)
        batches = iter(self.adapter.read(state, self.batch_size))
        ahead = asyncio.ensure_future(self._read_and_plan(batches))
        try:
            while planned := await ahead:
                ahead = asyncio.ensure_future(self._read_and_plan(batches))
                for batch, plan in planned:
                    await self._send_and_settle(batch, plan)
                    if self.on_batch is not None:
                        self.on_batch()
        finally:
            if not ahead.done():
                ahead.cancel()
                await asyncio.wait([ahead])
            if not ahead.cancelled():
                ahead.exception()  # retrieved: the first error is the one that counts
        self.summary.finish()
        return self.summary

    async def _read_and_plan(self, batches: Iterator[Batch]) -> list[tuple[Batch, BatchPlan]]:
        """The next batches up to and including one with records (empty batches, such
        as a file's closing step, are cheap: reading goes on past them)."""
        planned: list[tuple[Batch, BatchPlan]] = []
        while (batch := await self.db.call(next, batches, None)) is not None:
            plan = BatchPlan()
            for start in range(0, len(batch.records), PLAN_SLICE):
                plan.absorb(await self.db.call(
                    self.planner.plan, batch.records[start:start + PLAN_SLICE], self.run_id))
            planned.append((batch, plan))
            if batch.records:
                break
        return planned

    async def _send_and_settle(self, batch: Batch, plan: BatchPlan) -> None:
        self.summary.records_read += len(batch.records)
        try:
            await self.sender.send(plan)
        finally:
            self._count_works(plan)
        issues, delivered = self._settle_tickets(plan, batch.stream)
        await self.db.call(self.store.commit_batch, self.ctx.tenant, self.ctx.source,
                           batch.stream, batch.position, issues, delivered, self.run_id)
        if batch.after_commit is not None:
            await self.db.call(batch.after_commit)
        if batch.records:
            log.debug("batch settled", stream=batch.stream, records=len(batch.records),
                      issues=len(issues))

    def _count_works(self, plan: BatchPlan) -> None:
        for work in plan.works.values():
            if work.kind == CUSTOMER:
                if work.state is WorkState.SENT:
                    if work.had_identity:
                        self.summary.customers_updated += 1
                    else:
                        self.summary.customers_created += 1
                elif work.state is WorkState.UNCHANGED and work.from_customer_row:
                    self.summary.customers_unchanged += 1
            elif work.state is WorkState.SENT:
                self.summary.events_sent[work.kind] += 1
            elif work.state is WorkState.UNCHANGED:
                self.summary.events_unchanged += 1

    def _settle_tickets(self, plan: BatchPlan,
                        stream: str) -> tuple[list[RecordIssue], list[str]]:
        issues: list[RecordIssue] = []
        delivered: list[str] = []
        problems = {id(ticket): problem for ticket, problem in plan.problems}
        for ticket in plan.tickets:
            self.summary.warnings.update(ticket.warnings)
            problem = problems.get(id(ticket)) or next(
                (plan.works[n].problem for n in ticket.needs
                 if plan.works[n].state is WorkState.FAILED), None)
            if problem is None:
                delivered.append(ticket.record.origin.locator)
                continue
            disposition = disposition_of(problem)
            {SKIPPED: self.summary.skipped, REJECTED: self.summary.rejected,
             QUARANTINED: self.summary.quarantined}[disposition][problem.reason] += 1
            issues.append(self._issue(ticket, stream, problem, disposition))
        return issues, delivered

    @staticmethod
    def _issue(ticket: Ticket, stream: str, problem: RecordProblem,
               disposition: str) -> RecordIssue:
        record = ticket.record
        origin = record.origin
        as_dict: dict[str, Any] = dataclasses.asdict(record)
        as_dict["kind"] = type(record).__name__
        return RecordIssue(
            stream=stream, locator=origin.locator, row=origin.row,
            record_key=getattr(record, "customer_id", None) or getattr(record, "order_id", None)
            or getattr(record, "refund_id", None),
            disposition=disposition, reason=problem.reason, field=problem.field,
            message=f"{origin.locator}: {problem}", raw=dict(record.raw),
            record=as_dict if disposition == QUARANTINED else None,
        )
