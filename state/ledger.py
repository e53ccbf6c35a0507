"""The delivery ledger: one row per payload we owe a target, keyed by
(tenant, target, workspace, kind, key).

Lifecycle: ``stage`` writes rows as ``pending`` (with the payload, its hash and the
idempotency key) *before* any request leaves; each response then settles its row at once
(``sent`` / ``rejected``), so after a crash only requests that were in flight are
unsettled, and they are resent with the same idempotency key.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, Row, func, select, update

from state._sql import utcnow
from state.schema import ledger

PENDING = "pending"
SENT = "sent"
REJECTED = "rejected"

EntryId = tuple[str, str, str]
"""(workspace, kind, key) within one tenant and target."""


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    id: int
    tenant: str
    target: str
    workspace: str
    kind: str
    key: str
    source: str
    subject: str | None
    parent_key: str | None
    amount_cents: int | None
    payload_hash: str
    payload: dict[str, Any]
    idempotency_key: str
    status: str
    remote_id: str | None
    attempts: int
    last_error: str | None

    @property
    def entry_id(self) -> EntryId:
        return (self.workspace, self.kind, self.key)


@dataclass(frozen=True, slots=True)
class StagedEntry:
    """A payload about to be sent (new, or changed since it was last sent)."""

    workspace: str
    kind: str
    key: str
    source: str
    payload_hash: str
    payload: dict[str, Any]
    idempotency_key: str
    subject: str | None = None
    parent_key: str | None = None
    amount_cents: int | None = None

    @property
    def entry_id(self) -> EntryId:
        return (self.workspace, self.kind, self.key)


def _entry(row: Row[Any]) -> LedgerEntry:
    return LedgerEntry(
        id=row.id, tenant=row.tenant, target=row.target, workspace=row.workspace,
        kind=row.kind, key=row.key, source=row.source, subject=row.subject,
        parent_key=row.parent_key, amount_cents=row.amount_cents,
        payload_hash=row.payload_hash, payload=dict(row.payload),
        idempotency_key=row.idempotency_key, status=row.status, remote_id=row.remote_id,
        attempts=row.attempts, last_error=row.last_error,
    )


class Ledger:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def get_many(self, tenant: str, target: str,
                 ids: Iterable[EntryId]) -> dict[EntryId, LedgerEntry]:
        wanted = set(ids)
        keys = sorted({key for _, _, key in wanted})
        found: dict[EntryId, LedgerEntry] = {}
        with self._engine.connect() as conn:
            for start in range(0, len(keys), 500):
                rows = conn.execute(select(ledger).where(
                    ledger.c.tenant == tenant, ledger.c.target == target,
                    ledger.c.key.in_(keys[start:start + 500]))).all()
                for row in rows:
                    entry = _entry(row)
                    if entry.entry_id in wanted:
                        found[entry.entry_id] = entry
        return found

    def find(self, tenant: str, target: str, kind: str, key: str) -> LedgerEntry | None:
        """The entry of ``kind``/``key`` in whichever workspace it went to."""
        with self._engine.connect() as conn:
            row = conn.execute(select(ledger).where(
                ledger.c.tenant == tenant, ledger.c.target == target,
                ledger.c.kind == kind, ledger.c.key == key).order_by(ledger.c.id)).first()
        return None if row is None else _entry(row)

    def total_by_parent(self, tenant: str, target: str, kind: str, parent_key: str,
                        exclude_key: str | None = None) -> int:
        """Sum of ``amount_cents`` of live (pending or sent) entries under ``parent_key``."""
        query = select(func.coalesce(func.sum(ledger.c.amount_cents), 0)).where(
            ledger.c.tenant == tenant, ledger.c.target == target, ledger.c.kind == kind,
            ledger.c.parent_key == parent_key, ledger.c.status.in_((PENDING, SENT)))
        if exclude_key is not None:
            query = query.where(ledger.c.key != exclude_key)
        with self._engine.connect() as conn:
            return int(conn.execute(query).scalar_one())

    def stage(self, tenant: str, target: str, entries: Sequence[StagedEntry],
              run_id: int | None) -> dict[EntryId, LedgerEntry]:
        """Write ``entries`` as pending (insert or overwrite) in one transaction."""
        if not entries:
            return {}
        now = utcnow()
        existing = self.get_many(tenant, target, (e.entry_id for e in entries))
        with self._engine.begin() as conn:
            for e in entries:
                values = {
                    "source": e.source, "subject": e.subject, "parent_key": e.parent_key,
                    "amount_cents": e.amount_cents, "payload_hash": e.payload_hash,
                    "payload": e.payload, "idempotency_key": e.idempotency_key,
                    "status": PENDING, "run_id": run_id, "updated_at": now,
                }
                old = existing.get(e.entry_id)
                if old is None:
                    conn.execute(ledger.insert().values(
                        tenant=tenant, target=target, workspace=e.workspace, kind=e.kind,
                        key=e.key, attempts=0, created_at=now, **values))
                else:
                    conn.execute(update(ledger).where(ledger.c.id == old.id).values(**values))
        return self.get_many(tenant, target, (e.entry_id for e in entries))

    def mark_sent(self, entry_id: int, remote_id: str | None, attempts: int,
                  conn: Connection | None = None) -> None:
        if conn is None:
            with self._engine.begin() as own:
                self.mark_sent(entry_id, remote_id, attempts, own)
            return
        now = utcnow()
        conn.execute(update(ledger).where(ledger.c.id == entry_id).values(
            status=SENT, remote_id=remote_id, last_error=None, updated_at=now,
            sent_at=now, attempts=ledger.c.attempts + attempts))

    def mark_rejected(self, entry_id: int, error: str, attempts: int) -> None:
        with self._engine.begin() as conn:
            conn.execute(update(ledger).where(ledger.c.id == entry_id).values(
                status=REJECTED, last_error=error, updated_at=utcnow(),
                attempts=ledger.c.attempts + attempts))

    def note_failure(self, entry_id: int, error: str, attempts: int) -> None:
        """A transient failure: the row stays pending, to be resent by a later run."""
        with self._engine.begin() as conn:
            conn.execute(update(ledger).where(ledger.c.id == entry_id).values(
                last_error=error, updated_at=utcnow(), attempts=ledger.c.attempts + attempts))

    def counts(self, tenant: str) -> dict[str, int]:
        with self._engine.connect() as conn:
            rows = conn.execute(select(ledger.c.status, func.count()).where(
                ledger.c.tenant == tenant).group_by(ledger.c.status)).all()
        return {str(status): int(n) for status, n in rows}
