"""The delivery ledger: one row per payload we owe a target, keyed by
(tenant, target, workspace, kind, key).

Lifecycle: ``stage`` writes rows as ``pending`` (with the payload, its hash and the
idempotency key) *before* any request leaves; each response then settles its row at once
(``sent`` / ``rejected``), so after a crash only requests that were in flight are
unsettled, and they are resent with the same idempotency key.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    Row,
    String,
    Update,
    bindparam,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from state._sql import utcnow
from state.schema import ledger


class LedgerStatus(StrEnum):
    """Where a ledger row stands (the ``ledger.status`` column)."""

    PENDING = "pending"
    """Staged, not settled: about to be sent, in flight, or waiting to be resent."""
    SENT = "sent"
    """The target accepted it."""
    REJECTED = "rejected"
    """The target refused this content (a 4xx): not sent again unless it changes or a
    person replays it."""


# Shorthands for the statements of this module (elsewhere: ``LedgerStatus.X``).
PENDING, SENT, REJECTED = LedgerStatus.PENDING, LedgerStatus.SENT, LedgerStatus.REJECTED

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


_BY_ID = ledger.c.id == bindparam("entry_id")
_ATTEMPTS = ledger.c.attempts + bindparam("attempts_done")
_RESTAGE = update(ledger).where(_BY_ID).values(
    {**{c: bindparam(c) for c in ("source", "subject", "parent_key", "amount_cents",
                               "payload_hash", "payload", "idempotency_key", "status",
                               "run_id", "updated_at")}, "last_error": None})
_INSERT_RETURNING_IDS = ledger.insert().returning(
    ledger.c.id, ledger.c.workspace, ledger.c.kind, ledger.c.key)
_SENT_UNDER = bindparam("sent_under", type_=String)
_STILL_THIS_REQUEST = or_(_SENT_UNDER.is_(None), ledger.c.idempotency_key == _SENT_UNDER)
"""A row re-staged meanwhile (other content, another key) is left to that request."""
_MARK_SENT = update(ledger).where(_BY_ID, _STILL_THIS_REQUEST).values(
    status=SENT, remote_id=bindparam("remote_id"), last_error=None,
    updated_at=bindparam("now"), sent_at=bindparam("now"), attempts=_ATTEMPTS)
_MARK_REJECTED = update(ledger).where(_BY_ID, _STILL_THIS_REQUEST).values(
    status=REJECTED, last_error=bindparam("error"), updated_at=bindparam("now"),
    attempts=_ATTEMPTS)
_NOTE_FAILURE = update(ledger).where(_BY_ID).values(
    last_error=bindparam("error"), updated_at=bindparam("now"), attempts=_ATTEMPTS)


def _entry(row: Row[Any]) -> LedgerEntry:
    return LedgerEntry(
        id=row.id, tenant=row.tenant, target=row.target, workspace=row.workspace,
        kind=row.kind, key=row.key, source=row.source, subject=row.subject,
        parent_key=row.parent_key, amount_cents=row.amount_cents,
        payload_hash=row.payload_hash, payload=dict(row.payload),
        idempotency_key=row.idempotency_key, status=row.status, remote_id=row.remote_id,
        attempts=row.attempts, last_error=row.last_error,
    )


@dataclass(frozen=True, slots=True)
class EntryState:
    """The few columns planning needs, without decoding payloads."""

    id: int
    status: str
    payload_hash: str
    last_error: str | None
    idempotency_key: str = ""
    attempts: int = 0
    created_at: datetime | None = None
    """When this entry was first staged (the connector's first intent to send it)."""


LOOKUP_CHUNK = 500
"""Keys per ``IN (...)`` look-up."""

# Built once: the planner runs it for every slice of every batch (uses ix_ledger_lookup).
_STATES_OF = select(
    ledger.c.id, ledger.c.workspace, ledger.c.kind, ledger.c.key, ledger.c.status,
    ledger.c.payload_hash, ledger.c.last_error, ledger.c.idempotency_key,
    ledger.c.attempts, ledger.c.created_at,
).where(ledger.c.tenant == bindparam("tenant"),
        ledger.c.kind.in_(bindparam("kinds", expanding=True)),
        ledger.c.key.in_(bindparam("keys", expanding=True)),
        ledger.c.target == bindparam("target"))


_HOMES_OF = select(ledger.c.key, ledger.c.workspace).where(
    ledger.c.tenant == bindparam("tenant"), ledger.c.kind == bindparam("kind"),
    ledger.c.key.in_(bindparam("keys", expanding=True)),
    ledger.c.target == bindparam("target")).order_by(ledger.c.id)


class StageConflict(Exception):
    """A payload planned as new was inserted by another process (two sources of a tenant
    sharing a phone-keyed customer, in the daemon) between the look-up and the insert:
    nothing was written; plan again."""


class Ledger:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def states(self, tenant: str, target: str,
               ids: Iterable[EntryId]) -> dict[EntryId, EntryState]:
        wanted = set(ids)
        kinds = sorted({kind for _, kind, _ in wanted})
        keys = sorted({key for _, _, key in wanted})
        found: dict[EntryId, EntryState] = {}
        if not keys:
            return found
        with self._engine.connect() as conn:
            # every kind in one look-up: a row of another kind under one of the keys (or
            # another workspace) is left out below
            for start in range(0, len(keys), LOOKUP_CHUNK):
                rows = conn.execute(_STATES_OF, {
                    "tenant": tenant, "target": target, "kinds": kinds,
                    "keys": keys[start:start + LOOKUP_CHUNK]}).all()
                for row in rows:
                    entry_id = (row[1], row[2], row[3])
                    if entry_id in wanted:
                        found[entry_id] = EntryState(row[0], row[4], row[5], row[6],
                                                     row[7], row[8], row[9])
        return found

    def homes(self, tenant: str, target: str, kind: str,
              keys: Collection[str]) -> dict[str, str]:
        """Key → the workspace its ``kind`` entry went to first, for the ``keys`` that
        have one (uses ix_ledger_lookup)."""
        found: dict[str, str] = {}
        wanted = sorted(set(keys))
        if not wanted:
            return found
        with self._engine.connect() as conn:
            for start in range(0, len(wanted), LOOKUP_CHUNK):
                rows = conn.execute(_HOMES_OF, {
                    "tenant": tenant, "target": target, "kind": kind,
                    "keys": wanted[start:start + LOOKUP_CHUNK]}).all()
                for key, workspace in rows:
                    found.setdefault(key, workspace)
        return found

    def find(self, tenant: str, target: str, kind: str, key: str,
             workspace: str | None = None) -> LedgerEntry | None:
        """The entry of ``kind``/``key`` in ``workspace``, or in whichever workspace it
        went to first."""
        query = select(ledger).where(
            ledger.c.tenant == tenant, ledger.c.target == target,
            ledger.c.kind == kind, ledger.c.key == key)
        if workspace is not None:
            query = query.where(ledger.c.workspace == workspace)
        with self._engine.connect() as conn:
            row = conn.execute(query.order_by(ledger.c.id)).first()
        return None if row is None else _entry(row)

    def total_by_parent(self, tenant: str, target: str, kind: str, parent_key: str,
                        exclude_keys: Collection[str] = ()) -> int:
        """Sum of ``amount_cents`` of live (pending or sent) entries under ``parent_key``."""
        query = select(func.coalesce(func.sum(ledger.c.amount_cents), 0)).where(
            ledger.c.tenant == tenant, ledger.c.target == target, ledger.c.kind == kind,
            ledger.c.parent_key == parent_key, ledger.c.status.in_((PENDING, SENT)))
        if exclude_keys:
            query = query.where(ledger.c.key.not_in(sorted(exclude_keys)))
        with self._engine.connect() as conn:
            return int(conn.execute(query).scalar_one())

    def stage(self, tenant: str, target: str, entries: Sequence[StagedEntry],
              run_id: int | None, known: Mapping[EntryId, int]) -> dict[EntryId, int]:
        """Write ``entries`` as pending in one transaction: overwrite the rows whose ids
        are ``known``, insert the others. Returns every entry's row id."""
        if not entries:
            return {}
        now = utcnow()
        inserts: list[dict[str, Any]] = []
        updates: list[dict[str, Any]] = []
        ids: dict[EntryId, int] = {}
        for e in entries:
            values = {
                "source": e.source, "subject": e.subject, "parent_key": e.parent_key,
                "amount_cents": e.amount_cents, "payload_hash": e.payload_hash,
                "payload": e.payload, "idempotency_key": e.idempotency_key,
                "status": PENDING, "run_id": run_id, "updated_at": now,
            }
            old = known.get(e.entry_id)
            if old is None:
                inserts.append({"tenant": tenant, "target": target, "workspace": e.workspace,
                                "kind": e.kind, "key": e.key, "attempts": 0,
                                "created_at": now, "sent_at": None, "remote_id": None,
                                "last_error": None, **values})
            else:
                ids[e.entry_id] = old
                updates.append({"entry_id": old, **values})
        try:
            return self._write_staged(inserts, updates, ids)
        except IntegrityError as exc:
            raise StageConflict(
                "another process staged one of these payloads at the same moment") from exc

    def _write_staged(self, inserts: list[dict[str, Any]], updates: list[dict[str, Any]],
                      ids: dict[EntryId, int]) -> dict[EntryId, int]:
        with self._engine.begin() as conn:
            if inserts:
                # Rows come back keyed by their identity, in any order: asking for the
                # parameters' order made SQLAlchemy insert them one statement per row on
                # SQLite (it cannot order a multi-row RETURNING there).
                rows = conn.execute(_INSERT_RETURNING_IDS, inserts)
                ids.update({(r[1], r[2], r[3]): r[0] for r in rows})
            if updates:
                conn.execute(_RESTAGE, updates)
        return ids

    # Settling runs once per response: statements are built once, with bind parameters.
    def mark_rejected(self, entry_id: int, error: str, attempts: int,
                      key: str | None = None) -> None:
        """``key``: the idempotency key the refused request was sent under; a row
        re-staged meanwhile under another key (other content) stays pending."""
        self._settle(_MARK_REJECTED, entry_id=entry_id, error=error,
                     attempts_done=attempts, now=utcnow(), sent_under=key)

    def note_failure(self, entry_id: int, error: str, attempts: int) -> None:
        """A transient failure: the row stays pending, to be resent by a later run."""
        self._settle(_NOTE_FAILURE, entry_id=entry_id, error=error,
                     attempts_done=attempts, now=utcnow())

    def settle_many(self, sent: Sequence[tuple[int, str | None, int, str | None]],
                    conn: Connection) -> None:
        """Mark several rows sent: ``(entry id, remote id, attempts, key)`` each; with a
        key, only while the row still holds that request (see ``mark_rejected``)."""
        now = utcnow()
        conn.execute(_MARK_SENT, [{"entry_id": i, "remote_id": r, "attempts_done": a,
                                   "now": now, "sent_under": k} for i, r, a, k in sent])

    def _settle(self, statement: Update, **params: Any) -> None:
        with self._engine.begin() as conn:
            conn.execute(statement, params)

    def counts_of(self, tenant: str, target: str, kind: str) -> dict[str, int]:
        """Entries of one target and kind, by status."""
        with self._engine.connect() as conn:
            rows = conn.execute(select(ledger.c.status, func.count()).where(
                ledger.c.tenant == tenant, ledger.c.target == target,
                ledger.c.kind == kind).group_by(ledger.c.status)).all()
        return {str(status): int(n) for status, n in rows}

    def pending_of_source(self, tenant: str, source: str) -> int:
        """Payloads of one source staged but not settled (in flight, or waiting to be
        resent after a transient failure)."""
        with self._engine.connect() as conn:
            return int(conn.execute(select(func.count()).where(
                ledger.c.tenant == tenant, ledger.c.source == source,
                ledger.c.status == PENDING)).scalar_one())

    def counts(self, tenant: str) -> dict[str, int]:
        with self._engine.connect() as conn:
            rows = conn.execute(select(ledger.c.status, func.count()).where(
                ledger.c.tenant == tenant).group_by(ledger.c.status)).all()
        return {str(status): int(n) for status, n in rows}

    def owe(self, tenant: str, target: str, entry: StagedEntry, conn: Connection) -> bool:
        """Inside a caller's transaction: make ``entry`` pending unless the same content
        was already sent (or is already pending); True when a row was written."""
        row = conn.execute(select(ledger.c.id, ledger.c.status, ledger.c.payload_hash).where(
            ledger.c.tenant == tenant, ledger.c.target == target,
            ledger.c.workspace == entry.workspace, ledger.c.kind == entry.kind,
            ledger.c.key == entry.key)).first()
        if row is not None and row.payload_hash == entry.payload_hash and (
                row.status in (SENT, PENDING)):
            return False
        values = {"source": entry.source, "subject": entry.subject,
                  "parent_key": entry.parent_key, "amount_cents": entry.amount_cents,
                  "payload_hash": entry.payload_hash, "payload": entry.payload,
                  "idempotency_key": entry.idempotency_key, "status": PENDING,
                  "run_id": None, "updated_at": utcnow()}
        if row is None:
            conn.execute(ledger.insert().values(
                tenant=tenant, target=target, workspace=entry.workspace, kind=entry.kind,
                key=entry.key, attempts=0, created_at=utcnow(), **values))
        else:
            conn.execute(_RESTAGE, [{"entry_id": row.id, **values}])
        return True

    def pending(self, tenant: str, target: str, kind: str,
                workspace: str | None = None, limit: int = 500) -> list[LedgerEntry]:
        """Pending entries of one target and kind, oldest first."""
        query = select(ledger).where(
            ledger.c.tenant == tenant, ledger.c.target == target, ledger.c.kind == kind,
            ledger.c.status == PENDING)
        if workspace is not None:
            query = query.where(ledger.c.workspace == workspace)
        with self._engine.connect() as conn:
            rows = conn.execute(query.order_by(ledger.c.updated_at, ledger.c.id)
                                .limit(limit)).all()
        return [_entry(r) for r in rows]

    def mark_sent_if_unchanged(self, entry: LedgerEntry, remote_id: str | None,
                               attempts: int) -> bool:
        """Settle ``entry`` as sent unless it was re-staged with other content meanwhile
        (then it stays pending, to be sent again)."""
        now = utcnow()
        with self._engine.begin() as conn:
            done = conn.execute(update(ledger).where(
                ledger.c.id == entry.id, ledger.c.payload_hash == entry.payload_hash,
                ledger.c.status == PENDING,
            ).values(status=SENT, remote_id=remote_id, last_error=None, updated_at=now,
                     sent_at=now, attempts=ledger.c.attempts + attempts))
        return done.rowcount == 1
