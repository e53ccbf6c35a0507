"""Units of delivery planned for one batch, and the source records that depend on them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Protocol

from adapters.records import SourceRecord
from connector.errors import RecordProblem
from connector.outcomes import PayloadOutcome
from state import StagedEntry

CUSTOMER = "customer"
ORDER_COMPLETED = "order.completed"
ORDER_REFUNDED = "order.refunded"

EntryId = tuple[str, str, str]


class WorkState(Enum):
    TO_SEND = "to_send"
    UNCHANGED = "unchanged"
    SENT = "sent"
    FAILED = "failed"          # permanent: the target refused it, or a dependency did
    INTERRUPTED = "interrupted"  # transient failure persisted; stays pending for a later run


class WorkGroup(Protocol):
    """What a work belongs to (a planned batch): told when each of its works finishes."""

    def work_finished(self) -> None: ...


@dataclass(slots=True, eq=False)
class Work:
    """One payload to deliver. Its prerequisites (``after``) are the works it must wait
    for: its customer (for an event), its order (for a refund), and an earlier work of
    the same ledger entry still on its way; it is sent once they have all finished."""

    staged: StagedEntry
    state: WorkState = WorkState.TO_SEND
    ledger_id: int | None = None
    problem: RecordProblem | None = None
    had_identity: bool = False
    """For customers: the connector already knew this customer in this workspace."""
    previous: PayloadOutcome = PayloadOutcome.NEW
    """``new`` (never delivered) or ``changed`` (delivered before with other content)."""
    first_staged_at: datetime | None = None
    """For customers: when the connector first staged it for this workspace (the
    ledger row's birth), the lower bound of a ``created_at`` that counts as created by
    the connector (connector/sync/pass_rule.py)."""
    origin: str | None = None
    """For a customer's first delivery answered in this run: created, existed or unknown
    (connector/sync/pass_rule.py)."""
    from_customer_row: bool = False
    """For customers: planned from a customers row (not only as an order's dependency),
    so an unchanged result counts as "customer unchanged" in the summary."""
    remote_id: str | None = None
    """The Sticky id once delivered in this run (for a customer: its identity)."""
    after: list[Work] = field(default_factory=list)
    """Prerequisites (connector/sync/sender.py decides what each outcome means here)."""
    blocked_by: int = 0
    """Prerequisites not finished yet."""
    dependents: list[Work] = field(default_factory=list)
    """Works waiting for this one."""
    finished: bool = False
    group: WorkGroup | None = None
    identities: dict[tuple[str, str], str] = field(default_factory=dict)
    """(customer key, workspace) → Sticky id, as the ledger knew them at planning."""

    @property
    def entry_id(self) -> EntryId:
        return self.staged.entry_id

    @property
    def kind(self) -> str:
        return self.staged.kind

    @property
    def workspace(self) -> str:
        return self.staged.workspace


@dataclass(slots=True)
class Ticket:
    """One source record and the deliveries it needs; settled once they all are."""

    record: SourceRecord
    needs: list[EntryId] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
