"""Small SQL helpers shared by the state repositories (portable upsert, clock)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Table
from sqlalchemy.dialects import postgresql, sqlite


def utcnow() -> datetime:
    return datetime.now(UTC)


def upsert(conn: Connection, table: Table, rows: Sequence[dict[str, Any]],
           keys: Sequence[str], update: Sequence[str]) -> None:
    """INSERT ... ON CONFLICT (keys) DO UPDATE SET update-columns, on SQLite and PostgreSQL."""
    if not rows:
        return
    dialect = conn.dialect.name
    if dialect == "postgresql":
        pg_stmt = postgresql.insert(table)
        conn.execute(pg_stmt.on_conflict_do_update(
            index_elements=list(keys),
            set_={c: pg_stmt.excluded[c] for c in update},
        ), list(rows))
        return
    if dialect == "sqlite":
        lite_stmt = sqlite.insert(table)
        conn.execute(lite_stmt.on_conflict_do_update(
            index_elements=list(keys),
            set_={c: lite_stmt.excluded[c] for c in update},
        ), list(rows))
        return
    raise NotImplementedError(f"state DB dialect {dialect!r} is not supported")
