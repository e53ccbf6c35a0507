"""One transaction of the state DB, visible at the call site.

Every repository method either runs in a short transaction of its own (it takes no
connection: ``store.cursors.put(...)``) or inside its caller's (it takes a required
``conn``, and only this module passes one). Work that must commit together is written

    with store.unit_of_work(lease=lease) as uow:
        uow.record_issues(...)
        uow.put_cursor(...)

and commits when the block ends, or not at all when it raises. With ``lease``, the
transaction first checks that the lease is still the holder's (``Leases.fence``), so a
holder that was taken over cannot write.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection

from state.cursors import Cursors
from state.customers import Customers
from state.erasures import KEY, Erasures
from state.issues import RecordIssue, RecordRef
from state.ledger import StagedEntry
from state.passes import Passes

if TYPE_CHECKING:
    from state.store import StateStore


class UnitOfWork:
    """The operations that compose into one transaction (``StateStore.unit_of_work``)."""

    def __init__(self, store: StateStore, conn: Connection) -> None:
        self._store = store
        self._conn = conn

    # -- a source's batch ------------------------------------------------------------
    def record_issues(self, tenant: str, source: str, issues: Sequence[RecordIssue],
                      run_id: int | None) -> None:
        self._store.issues.record(tenant, source, issues, run_id, self._conn)

    def resolve_issues(self, tenant: str, source: str, stream: str,
                       delivered: Sequence[RecordRef]) -> None:
        self._store.issues.resolve(tenant, source, stream, delivered, self._conn)

    def put_cursor(self, tenant: str, source: str, stream: str,
                   position: dict[str, Any]) -> None:
        Cursors.put_within(tenant, source, stream, position, self._conn)

    # -- settling deliveries -----------------------------------------------------------
    def settle_sent(self, sent: Sequence[tuple[int, str | None, int, str | None]]) -> None:
        """Mark ledger rows sent: ``(entry id, remote id, attempts, key)`` each."""
        self._store.ledger.settle_many(sent, self._conn)

    def owe(self, tenant: str, target: str, entry: StagedEntry) -> bool:
        """Make ``entry`` pending unless the same content is sent or pending already."""
        return self._store.ledger.owe(tenant, target, entry, self._conn)

    def save_identity(self, tenant: str, customer_key: str, workspace: str,
                      remote_id: str) -> None:
        Customers.save_identity_within(tenant, customer_key, workspace, remote_id,
                                       self._conn)

    def save_identities(self, tenant: str, items: Sequence[tuple[str, str, str]]) -> None:
        """``(customer key, workspace, Sticky id)`` each, in one statement."""
        Customers.save_identities_within(tenant, items, self._conn)

    def want_passes(self, tenant: str, items: Iterable[tuple[str, str, str | None]],
                    reason: str) -> int:
        return Passes.want_within(tenant, items, reason, self._conn)

    def erased_keys(self, tenant: str, keys: Iterable[str]) -> set[str]:
        """Which customer ``keys`` were erased (read the salt before the unit opens:
        ``Erasures.salt``)."""
        return self._store.erasures.erased_within(tenant, KEY, keys, self._conn)

    def owe_sticky_erasure(self, tenant: str, workspace: str, remote_id: str,
                           why: str) -> None:
        Erasures.owe_sticky_erasure(tenant, workspace, remote_id, why, self._conn)

    # -- webhook events ----------------------------------------------------------------
    def set_tier(self, workspace: str, customer_id: str, tier: str,
                 previous_tier: str | None, changed_at: datetime,
                 points_balance: int | None) -> bool:
        return self._store.webhooks.set_tier(workspace, customer_id, tier, previous_tier,
                                             changed_at, points_balance, self._conn)

    def set_journey(self, workspace: str, customer_id: str, journey: str,
                    entered_at: datetime) -> bool:
        return self._store.webhooks.set_journey(workspace, customer_id, journey,
                                                entered_at, self._conn)

    def mark_pass_installed(self, workspace: str, customer_id: str, pass_id: str,
                            installed_at: datetime, platform: str | None) -> int:
        return self._store.passes.mark_installed(workspace, customer_id, pass_id,
                                                 installed_at, platform, self._conn)

    def finish_webhook(self, event_row: int, outcome: str, detail: str | None) -> None:
        self._store.webhooks.finish(event_row, outcome, detail, self._conn)
