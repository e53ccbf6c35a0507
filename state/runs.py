"""Run history: one row per pass over a source."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, Row, func, select, update

from state._sql import utcnow
from state.schema import runs


@dataclass(frozen=True, slots=True)
class RunRecord:
    id: int
    tenant: str
    source: str
    trigger: str
    started_at: datetime
    finished_at: datetime | None
    outcome: str | None
    counts: dict[str, Any] | None
    error: str | None


class Runs:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def start(self, tenant: str, source: str, trigger: str) -> int:
        with self._engine.begin() as conn:
            result = conn.execute(runs.insert().values(
                tenant=tenant, source=source, trigger=trigger, started_at=utcnow()))
            key = result.inserted_primary_key
            assert key is not None
            return int(key[0])

    def finish(self, run_id: int, outcome: str, counts: dict[str, Any],
               error: str | None = None) -> None:
        with self._engine.begin() as conn:
            conn.execute(update(runs).where(runs.c.id == run_id).values(
                finished_at=utcnow(), outcome=outcome, counts=counts, error=error))

    def get(self, run_id: int) -> RunRecord | None:
        with self._engine.connect() as conn:
            row = conn.execute(select(runs).where(runs.c.id == run_id)).first()
        return None if row is None else _record(row)

    def latest(self, limit: int = 20, tenant: str | None = None,
               source: str | None = None) -> list[RunRecord]:
        """The newest runs first, of every source unless one is named."""
        query = select(runs).order_by(runs.c.id.desc()).limit(limit)
        if tenant is not None:
            query = query.where(runs.c.tenant == tenant)
        if source is not None:
            query = query.where(runs.c.source == source)
        with self._engine.connect() as conn:
            return [_record(r) for r in conn.execute(query).all()]

    def recent(self, tenant: str, source: str, limit: int = 5) -> list[RunRecord]:
        with self._engine.connect() as conn:
            rows = conn.execute(select(runs).where(
                runs.c.tenant == tenant, runs.c.source == source)
                .order_by(runs.c.id.desc()).limit(limit)).all()
        return [_record(r) for r in rows]

    def count(self) -> tuple[int, datetime | None]:
        """How many runs this state DB holds, and when the newest started."""
        with self._engine.connect() as conn:
            row = conn.execute(select(func.count(), func.max(runs.c.started_at))
                               .select_from(runs)).one()
        return int(row[0]), row[1]

    def last_complete(self, tenant: str, source: str,
                      triggers: Sequence[str]) -> RunRecord | None:
        """The newest run with one of ``triggers`` that read its source to the end
        (outcome ``ok``, or ``needs attention``: finished, something left for a person)."""
        with self._engine.connect() as conn:
            row = conn.execute(select(runs).where(
                runs.c.tenant == tenant, runs.c.source == source,
                runs.c.trigger.in_(list(triggers)), runs.c.outcome.in_(["ok", "needs attention"]))
                .order_by(runs.c.id.desc()).limit(1)).first()
        return None if row is None else _record(row)


def _record(r: Row[Any]) -> RunRecord:
    return RunRecord(
        id=r.id, tenant=r.tenant, source=r.source, trigger=r.trigger,
        started_at=r.started_at, finished_at=r.finished_at, outcome=r.outcome,
        counts=None if r.counts is None else dict(r.counts), error=r.error)
