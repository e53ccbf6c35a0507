"""The state DB as one object: open it once at the composition root and pass it down."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine

from state.attention import Attention
from state.checkpointer import WalCheckpointer
from state.cursors import Cursors
from state.customers import Customers
from state.db import create_state_engine, migrate
from state.issues import RecordIssue, RecordIssues, RecordRef
from state.leases import Leases
from state.ledger import Ledger
from state.locations import Locations
from state.organizations import Organizations
from state.runs import Runs


@dataclass(frozen=True, slots=True)
class Delivery:
    """A payload the target accepted: its ledger row, the remote id and the attempts it
    took; for a customer also its (customer key, workspace) for the identity map."""

    entry_id: int
    remote_id: str
    attempts: int
    identity: tuple[str, str] | None = None


class StateStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._checkpointer = (WalCheckpointer(engine) if engine.dialect.name == "sqlite"
                              and engine.url.database not in (None, "", ":memory:") else None)
        self.cursors = Cursors(engine)
        self.ledger = Ledger(engine)
        self.customers = Customers(engine)
        self.issues = RecordIssues(engine)
        self.runs = Runs(engine)
        self.leases = Leases(engine)
        self.locations = Locations(engine)
        self.organizations = Organizations(engine)
        self.attention = Attention(engine)

    @classmethod
    def open(cls, url: str) -> StateStore:
        engine = create_state_engine(url)
        migrate(engine)
        return cls(engine)

    def commit_batch(self, tenant: str, source: str, stream: str,
                     position: dict[str, Any] | None, issues: Sequence[RecordIssue],
                     delivered: Sequence[RecordRef], run_id: int | None) -> None:
        """Checkpoint one settled batch: its record issues and its cursor, atomically
        (``position`` ``None``: a replay of quarantined records, no cursor moves)."""
        with self.engine.begin() as conn:
            self.issues.record(tenant, source, issues, run_id, conn)
            self.issues.resolve(tenant, source, stream, delivered, conn)
            if position is not None:
                self.cursors.put(tenant, source, stream, position, conn)

    def settle_delivered(self, tenant: str, items: Sequence[Delivery]) -> None:
        """Settle several accepted payloads (and their identities) in one transaction."""
        if not items:
            return
        with self.engine.begin() as conn:
            self.ledger.settle_many([(d.entry_id, d.remote_id, d.attempts) for d in items],
                                    conn)
            for d in items:
                if d.identity is not None:
                    self.customers.save_identity(tenant, d.identity[0], d.identity[1],
                                                 d.remote_id, conn)

    def close(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.close()
            self._checkpointer = None
        self.engine.dispose()
