"""The state DB as one object: open it once at the composition root and pass it down."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Engine

from state.cursors import Cursors
from state.customers import Customers
from state.db import create_state_engine, migrate
from state.issues import RecordIssue, RecordIssues
from state.leases import Leases
from state.ledger import Ledger
from state.runs import Runs


class StateStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.cursors = Cursors(engine)
        self.ledger = Ledger(engine)
        self.customers = Customers(engine)
        self.issues = RecordIssues(engine)
        self.runs = Runs(engine)
        self.leases = Leases(engine)

    @classmethod
    def open(cls, url: str) -> StateStore:
        engine = create_state_engine(url)
        migrate(engine)
        return cls(engine)

    def commit_batch(self, tenant: str, source: str, stream: str, position: dict[str, Any],
                     issues: Sequence[RecordIssue], delivered_locators: Sequence[str],
                     run_id: int | None) -> None:
        """Checkpoint one settled batch: its record issues and its cursor, atomically."""
        with self.engine.begin() as conn:
            self.issues.record(tenant, source, issues, run_id, conn)
            self.issues.resolve(tenant, source, stream, delivered_locators, conn)
            self.cursors.put(tenant, source, stream, position, conn)

    def settle_customer(self, entry_id: int, tenant: str, customer_key: str, workspace: str,
                        remote_id: str, attempts: int) -> None:
        """A customer was accepted: its ledger row and identity, in one transaction."""
        with self.engine.begin() as conn:
            self.ledger.mark_sent(entry_id, remote_id, attempts, conn)
            self.customers.save_identity(tenant, customer_key, workspace, remote_id, conn)

    def close(self) -> None:
        self.engine.dispose()
