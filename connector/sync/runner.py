"""One pass over one source: read batches, plan, send, settle, checkpoint."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
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
        state = BoundSourceState(self.store, self.ctx.tenant, self.ctx.source)
        for batch in self.adapter.read(state, self.batch_size):
            await self._process(batch)
            if self.on_batch is not None:
                self.on_batch()
        self.summary.finish()
        return self.summary

    async def _process(self, batch: Batch) -> None:
        plan = self.planner.plan(list(batch.records), self.run_id)
        self.summary.records_read += len(batch.records)
        try:
            await self.sender.send(plan)
        finally:
            self._count_works(plan)
        issues, delivered = self._settle_tickets(plan, batch.stream)
        self.store.commit_batch(self.ctx.tenant, self.ctx.source, batch.stream,
                                batch.position, issues, delivered, self.run_id)
        if batch.after_commit is not None:
            batch.after_commit()
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
