"""Source cursors: where each (tenant, source, stream) has read up to."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, select

from state._sql import upsert, utcnow
from state.schema import cursors


class Cursors:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def get(self, tenant: str, source: str, stream: str) -> dict[str, Any] | None:
        with self._engine.connect() as conn:
            row = conn.execute(
                select(cursors.c.position).where(
                    cursors.c.tenant == tenant, cursors.c.source == source,
                    cursors.c.stream == stream)
            ).first()
        return None if row is None else dict(row.position)

    def put(self, tenant: str, source: str, stream: str, position: dict[str, Any]) -> None:
        """Move a cursor in a transaction of its own."""
        with self._engine.begin() as conn:
            self.put_within(tenant, source, stream, position, conn)

    @staticmethod
    def put_within(tenant: str, source: str, stream: str, position: dict[str, Any],
                   conn: Connection) -> None:
        """Move a cursor within the caller's transaction (``UnitOfWork.put_cursor``)."""
        upsert(conn, cursors, [{
            "tenant": tenant, "source": source, "stream": stream,
            "position": position, "updated_at": utcnow(),
        }], keys=("tenant", "source", "stream"), update=("position", "updated_at"))

    def all_for(self, tenant: str, source: str) -> dict[str, dict[str, Any]]:
        with self._engine.connect() as conn:
            rows = conn.execute(select(cursors.c.stream, cursors.c.position).where(
                cursors.c.tenant == tenant, cursors.c.source == source)).all()
        return {r.stream: dict(r.position) for r in rows}

    def latest(self, tenant: str, source: str) -> tuple[str, dict[str, Any], datetime] | None:
        """The most recently moved cursor of a source: (stream, position, when)."""
        with self._engine.connect() as conn:
            row = conn.execute(select(cursors.c.stream, cursors.c.position,
                                      cursors.c.updated_at).where(
                cursors.c.tenant == tenant, cursors.c.source == source)
                .order_by(cursors.c.updated_at.desc()).limit(1)).first()
        return None if row is None else (row.stream, dict(row.position), row.updated_at)
