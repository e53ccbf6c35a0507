"""Source records that were not delivered: skipped (by rule), rejected (bad data) or
quarantined (could not be delivered; kept with the record for replay)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, Engine, Row, bindparam, func, or_, select, update

from state._sql import upsert, utcnow
from state.schema import record_issues


class Disposition(StrEnum):
    """Why a record was not delivered (the ``record_issues.disposition`` column)."""

    SKIPPED = "skipped"
    """Deliberately not sent, by rule (a cancelled order, a guest sale without phone...)."""
    REJECTED = "rejected"
    """Its data cannot be trusted (an invalid phone, a bad amount...)."""
    QUARANTINED = "quarantined"
    """Valid but not deliverable now: kept with the record for replay."""


class Resolution(StrEnum):
    """How an issue was closed (the ``record_issues.resolution`` column)."""

    DELIVERED = "delivered"
    """Delivered after all (a replay, a later read)."""
    SUPERSEDED = "superseded"
    """Replaced by a corrected copy read elsewhere."""
    DISCARDED = "discarded"
    """Discarded by a person (``dlq discard``)."""


@dataclass(frozen=True, slots=True)
class RecordRef:
    """A delivered record: where it was read, what it is and its own id."""

    locator: str
    kind: str
    record_id: str | None


@dataclass(frozen=True, slots=True)
class RecordIssue:
    stream: str
    locator: str
    row: int | None
    record_key: str | None
    disposition: str
    reason: str
    field: str | None
    message: str
    raw: dict[str, Any]
    record: dict[str, Any] | None = None
    record_kind: str | None = None
    record_id: str | None = None


@dataclass(frozen=True, slots=True)
class StoredIssue:
    """A record issue as kept, with its id and replay history (for ``dlq``)."""

    id: int
    tenant: str
    source: str
    stream: str
    locator: str
    row: int | None
    record_kind: str | None
    record_id: str | None
    disposition: str
    reason: str
    field: str | None
    message: str
    raw: dict[str, Any]
    record: dict[str, Any] | None
    attempts: int
    next_retry_at: datetime | None
    created_at: datetime
    updated_at: datetime
    resolved_at: datetime | None
    resolution: str | None


# Run at every batch checkpoint: built once.
_RESOLVE_DELIVERED = update(record_issues).where(
    record_issues.c.tenant == bindparam("of_tenant"),
    record_issues.c.source == bindparam("of_source"),
    record_issues.c.stream == bindparam("of_stream"),
    record_issues.c.locator.in_(bindparam("locators", expanding=True)),
    record_issues.c.resolved_at.is_(None)).values(
    resolved_at=bindparam("now"), resolution=Resolution.DELIVERED, next_retry_at=None)
_OPEN_OF_RECORDS = select(
    record_issues.c.id, record_issues.c.record_id, record_issues.c.stream,
    record_issues.c.locator).where(  # uses ix_record_issues_identity
    record_issues.c.tenant == bindparam("tenant"),
    record_issues.c.source == bindparam("source"),
    record_issues.c.record_kind == bindparam("kind"),
    record_issues.c.record_id.in_(bindparam("ids", expanding=True)),
    record_issues.c.resolved_at.is_(None))


class RecordIssues:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def record(self, tenant: str, source: str, issues: Sequence[RecordIssue],
               run_id: int | None, conn: Connection) -> None:
        """Upsert: reading the same bad row again updates its issue, never duplicates it;
        an open issue of the same record read elsewhere (an earlier file) is superseded."""
        now = utcnow()
        upsert(conn, record_issues, [{
            "tenant": tenant, "source": source, "stream": i.stream, "locator": i.locator,
            "row": i.row, "record_key": i.record_key, "disposition": i.disposition,
            "reason": i.reason, "field": i.field, "message": i.message, "raw": i.raw,
            "record": i.record, "run_id": run_id, "created_at": now, "updated_at": now,
            "resolved_at": None, "record_kind": i.record_kind, "record_id": i.record_id,
            "attempts": 0, "next_retry_at": None, "resolution": None,
        } for i in issues], keys=("tenant", "source", "stream", "locator"),
            update=("row", "record_key", "disposition", "reason", "field", "message", "raw",
                    "record", "run_id", "updated_at", "resolved_at", "record_kind",
                    "record_id", "resolution"))
        self._supersede(tenant, source, [(i.stream, i.locator, i.record_kind, i.record_id)
                                         for i in issues], conn)

    def resolve(self, tenant: str, source: str, stream: str, delivered: Sequence[RecordRef],
                conn: Connection) -> None:
        """Resolve the issues of these records (they were delivered after all), and those
        of earlier copies of them read elsewhere."""
        if not delivered:
            return
        locators = [d.locator for d in delivered]
        now = utcnow()
        for start in range(0, len(locators), 500):
            conn.execute(_RESOLVE_DELIVERED, {
                "of_tenant": tenant, "of_source": source, "of_stream": stream,
                "locators": locators[start:start + 500], "now": now})
        self._supersede(tenant, source, [(stream, d.locator, d.kind, d.record_id)
                                         for d in delivered], conn)

    def resolve_file_rejection(self, tenant: str, source: str, locator: str,
                               stream: str) -> int:
        """Open rejections of a whole file (``locator``, row 0): a copy of it was read to
        its end on ``stream`` (corrected, or the same after a columns fix), so they are
        resolved as superseded."""
        with self._engine.begin() as conn:
            result = conn.execute(update(record_issues).where(
                record_issues.c.tenant == tenant, record_issues.c.source == source,
                record_issues.c.locator == locator, record_issues.c.row == 0,
                record_issues.c.disposition == Disposition.REJECTED,
                record_issues.c.resolved_at.is_(None)).values(
                resolved_at=utcnow(), resolution=Resolution.SUPERSEDED, next_retry_at=None))
        return int(result.rowcount or 0)

    def _supersede(self, tenant: str, source: str,
                   refs: Sequence[tuple[str, str, str | None, str | None]],
                   conn: Connection) -> None:
        """Resolve open issues of the same (kind, id) read at another place. Runs with
        every batch checkpoint: one indexed lookup per kind, an update only when found."""
        places: dict[str, dict[str, set[tuple[str, str]]]] = {}
        for stream, locator, kind, rid in refs:
            if kind is not None and rid is not None:
                places.setdefault(kind, {}).setdefault(rid, set()).add((stream, locator))
        stale: list[int] = []
        for kind, by_id in places.items():
            ids = sorted(by_id)
            for start in range(0, len(ids), 500):
                rows = conn.execute(_OPEN_OF_RECORDS, {
                    "tenant": tenant, "source": source, "kind": kind,
                    "ids": ids[start:start + 500]}).all()
                stale.extend(r.id for r in rows
                             if (r.stream, r.locator) not in by_id[r.record_id])
        if stale:
            conn.execute(update(record_issues).where(record_issues.c.id.in_(stale)).values(
                resolved_at=utcnow(), resolution=Resolution.SUPERSEDED, next_retry_at=None))

    def for_stream(self, tenant: str, source: str, stream: str,
                   dispositions: Sequence[str] = (Disposition.REJECTED,
                                                  Disposition.QUARANTINED),
                   ) -> list[RecordIssue]:
        with self._engine.connect() as conn:
            rows = conn.execute(select(record_issues).where(
                record_issues.c.tenant == tenant, record_issues.c.source == source,
                record_issues.c.stream == stream, record_issues.c.resolved_at.is_(None),
                record_issues.c.disposition.in_(dispositions))
                .order_by(record_issues.c.row, record_issues.c.id)).all()
        return [RecordIssue(
            stream=r.stream, locator=r.locator, row=r.row, record_key=r.record_key,
            disposition=r.disposition, reason=r.reason, field=r.field, message=r.message,
            raw=dict(r.raw), record=None if r.record is None else dict(r.record),
        ) for r in rows]

    def skipped_keys(self, tenant: str, source: str, reason: str,
                     record_keys: Sequence[str]) -> set[str]:
        """Which of ``record_keys`` have an open issue skipped for ``reason``."""
        if not record_keys:
            return set()
        with self._engine.connect() as conn:
            rows = conn.execute(select(record_issues.c.record_key).where(
                record_issues.c.tenant == tenant, record_issues.c.source == source,
                record_issues.c.reason == reason,
                record_issues.c.disposition == Disposition.SKIPPED,
                record_issues.c.resolved_at.is_(None),
                record_issues.c.record_key.in_(sorted(set(record_keys))))).all()
        return {str(r.record_key) for r in rows}

    def open_counts(self, tenant: str, source: str) -> dict[str, int]:
        with self._engine.connect() as conn:
            rows = conn.execute(select(record_issues.c.disposition, func.count()).where(
                record_issues.c.tenant == tenant, record_issues.c.source == source,
                record_issues.c.resolved_at.is_(None))
                .group_by(record_issues.c.disposition)).all()
        return {str(d): int(n) for d, n in rows}

    # -- quarantine (dlq) -------------------------------------------------------------
    def find(self, *, tenant: str | None = None, source: str | None = None,
             reason: str | None = None, ids: Sequence[int] | None = None,
             dispositions: Sequence[str] = (Disposition.QUARANTINED,),
             include_resolved: bool = False,
             limit: int | None = None) -> list[StoredIssue]:
        query = select(record_issues).where(record_issues.c.disposition.in_(dispositions))
        if tenant is not None:
            query = query.where(record_issues.c.tenant == tenant)
        if source is not None:
            query = query.where(record_issues.c.source == source)
        if reason is not None:
            query = query.where(record_issues.c.reason == reason)
        if ids is not None:
            query = query.where(record_issues.c.id.in_(list(ids)))
        if not include_resolved:
            query = query.where(record_issues.c.resolved_at.is_(None))
        query = query.order_by(record_issues.c.id)
        if limit is not None:
            query = query.limit(limit)
        with self._engine.connect() as conn:
            return [_stored(r) for r in conn.execute(query).all()]

    def get(self, issue_id: int) -> StoredIssue | None:
        with self._engine.connect() as conn:
            row = conn.execute(select(record_issues).where(
                record_issues.c.id == issue_id)).first()
        return None if row is None else _stored(row)

    def due_for_retry(self, tenant: str, source: str, reasons: Sequence[str],
                      now: datetime, max_attempts: int, limit: int) -> list[StoredIssue]:
        """Open quarantined records with one of ``reasons`` whose backoff has passed."""
        with self._engine.connect() as conn:
            rows = conn.execute(select(record_issues).where(
                record_issues.c.tenant == tenant, record_issues.c.source == source,
                record_issues.c.disposition == Disposition.QUARANTINED,
                record_issues.c.resolved_at.is_(None), record_issues.c.record.is_not(None),
                record_issues.c.reason.in_(list(reasons)),
                record_issues.c.attempts < max_attempts,
                or_(record_issues.c.next_retry_at.is_(None),
                    record_issues.c.next_retry_at <= now))
                .order_by(record_issues.c.id).limit(limit)).all()
        return [_stored(r) for r in rows]

    def note_attempts(self, ids: Sequence[int],
                      next_retry_at: Callable[[int], datetime]) -> None:
        """Count one more replay of each issue; ``next_retry_at(attempts)`` is when the
        next automatic one may run."""
        with self._engine.begin() as conn:
            rows = conn.execute(select(record_issues.c.id, record_issues.c.attempts).where(
                record_issues.c.id.in_(list(ids)))).all()
            for issue_id, attempts in rows:
                conn.execute(update(record_issues).where(record_issues.c.id == issue_id)
                             .values(attempts=attempts + 1,
                                     next_retry_at=next_retry_at(attempts + 1)))

    def discard(self, ids: Sequence[int]) -> int:
        """Resolve these open issues as discarded (a person decided); returns how many."""
        with self._engine.begin() as conn:
            result = conn.execute(update(record_issues).where(
                record_issues.c.id.in_(list(ids)), record_issues.c.resolved_at.is_(None))
                .values(resolved_at=utcnow(), resolution=Resolution.DISCARDED, next_retry_at=None))
            return int(result.rowcount)

    def open_reasons(self, tenant: str, source: str,
                     disposition: str = Disposition.QUARANTINED) -> dict[str, int]:
        with self._engine.connect() as conn:
            rows = conn.execute(select(record_issues.c.reason, func.count()).where(
                record_issues.c.tenant == tenant, record_issues.c.source == source,
                record_issues.c.disposition == disposition,
                record_issues.c.resolved_at.is_(None))
                .group_by(record_issues.c.reason)).all()
        return {str(r): int(n) for r, n in rows}


def _stored(r: Row[Any]) -> StoredIssue:
    return StoredIssue(
        id=r.id, tenant=r.tenant, source=r.source, stream=r.stream, locator=r.locator,
        row=r.row, record_kind=r.record_kind, record_id=r.record_id,
        disposition=r.disposition, reason=r.reason, field=r.field, message=r.message,
        raw=dict(r.raw), record=None if r.record is None else dict(r.record),
        attempts=r.attempts, next_retry_at=r.next_retry_at, created_at=r.created_at,
        updated_at=r.updated_at, resolved_at=r.resolved_at, resolution=r.resolution)
