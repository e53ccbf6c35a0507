"""Small SQL helpers shared by the state repositories (portable upsert, clock)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, Table
from sqlalchemy.dialects import postgresql, sqlite


def utcnow() -> datetime:
    return datetime.now(UTC)


_DIALECT_INSERTS: dict[str, Callable[[Table], Any]] = {
    "postgresql": postgresql.insert,
    "sqlite": sqlite.insert,
}


def upsert(conn: Connection, table: Table, rows: Sequence[dict[str, Any]],
           keys: Sequence[str], update: Sequence[str]) -> None:
    """INSERT ... ON CONFLICT (keys) DO UPDATE SET update-columns, on SQLite and PostgreSQL."""
    if not rows:
        return
    conn.execute(_upsert_statement(conn.dialect.name, table, tuple(keys), tuple(update)),
                 list(rows))


@lru_cache(maxsize=128)
def _upsert_statement(dialect: str, table: Table, keys: tuple[str, ...],
                      update: tuple[str, ...]) -> Any:
    """Built once per statement shape: building it cost more than running it (one
    upsert per settled customer)."""
    insert = _DIALECT_INSERTS.get(dialect)
    if insert is None:
        raise NotImplementedError(f"state DB dialect {dialect!r} is not supported")
    statement = insert(table)
    return statement.on_conflict_do_update(
        index_elements=list(keys), set_={c: statement.excluded[c] for c in update})


def insert_ignore(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> int:
    """INSERT ... ON CONFLICT DO NOTHING; returns how many rows were inserted."""
    if not rows:
        return 0
    insert = _DIALECT_INSERTS.get(conn.dialect.name)
    if insert is None:
        raise NotImplementedError(f"state DB dialect {conn.dialect.name!r} is not supported")
    statement = insert(table).on_conflict_do_nothing().returning(
        *table.primary_key.columns)
    added = 0
    for row in rows:  # rowcount is not reliable here on every driver (psycopg: -1)
        added += conn.execute(statement, row).first() is not None
    return added


@contextlib.contextmanager
def full_sync(conn: Connection) -> Iterator[None]:
    """On SQLite, commits made on ``conn`` inside the block fsync the WAL
    (``synchronous=FULL``); the connection goes back to ``NORMAL`` after. The pragma is
    set on the driver connection outside any transaction (SQLite ignores it inside one).
    Other backends are durable at commit already."""
    if conn.dialect.name != "sqlite":
        yield
        return
    raw = conn.connection.driver_connection
    assert raw is not None
    raw.execute("PRAGMA synchronous=FULL")
    try:
        yield
    finally:
        raw.execute("PRAGMA synchronous=NORMAL")
