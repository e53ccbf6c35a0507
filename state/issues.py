"""Source records that were not delivered: skipped (by rule), rejected (bad data) or
quarantined (could not be delivered; kept with the record for replay)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, func, select, update

from state._sql import upsert, utcnow
from state.schema import record_issues

SKIPPED = "skipped"
REJECTED = "rejected"
QUARANTINED = "quarantined"


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


class RecordIssues:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def record(self, tenant: str, source: str, issues: Sequence[RecordIssue],
               run_id: int | None, conn: Connection) -> None:
        """Upsert: reading the same bad row again updates its issue, never duplicates it."""
        now = utcnow()
        upsert(conn, record_issues, [{
            "tenant": tenant, "source": source, "stream": i.stream, "locator": i.locator,
            "row": i.row, "record_key": i.record_key, "disposition": i.disposition,
            "reason": i.reason, "field": i.field, "message": i.message, "raw": i.raw,
            "record": i.record, "run_id": run_id, "created_at": now, "updated_at": now,
            "resolved_at": None,
        } for i in issues], keys=("tenant", "source", "stream", "locator"),
            update=("row", "record_key", "disposition", "reason", "field", "message", "raw",
                    "record", "run_id", "updated_at", "resolved_at"))

    def resolve(self, tenant: str, source: str, stream: str, locators: Sequence[str],
                conn: Connection) -> None:
        """Mark earlier issues of these records resolved (they were delivered after all)."""
        if not locators:
            return
        conn.execute(update(record_issues).where(
            record_issues.c.tenant == tenant, record_issues.c.source == source,
            record_issues.c.stream == stream, record_issues.c.locator.in_(locators),
            record_issues.c.resolved_at.is_(None)).values(resolved_at=utcnow()))

    def for_stream(self, tenant: str, source: str, stream: str,
                   dispositions: Sequence[str] = (REJECTED, QUARANTINED)) -> list[RecordIssue]:
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
                record_issues.c.reason == reason, record_issues.c.disposition == SKIPPED,
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
