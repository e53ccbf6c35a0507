"""A private copy of the state DB in a temporary SQLite file (what a dry run works on).

The copy gets the schema the migrations produce, then every table of
:data:`state.schema.metadata` is copied row by row in chunks with SQLAlchemy Core, so the
source may be SQLite or PostgreSQL. The source is only read, in one transaction (one
consistent view; on SQLite a deferred ``BEGIN``, which never blocks a writer in WAL mode),
and never migrated: a source at an older revision is copied at that revision (the
columns it has), then the copy alone is migrated to the newest one. A source that does
not exist yet (no file, or no schema) gives an empty, migrated copy.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import (
    JSON,
    Column,
    Connection,
    Engine,
    Text,
    bindparam,
    cast,
    create_engine,
    event,
    inspect,
    select,
    text,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from connector.errors import ConfigurationError
from state.db import MIGRATIONS_DIR, create_state_engine, migrate
from state.schema import metadata
from state.store import StateStore

CHUNK_ROWS = 2000
"""Rows read and inserted per round trip."""


@dataclass(slots=True)
class Snapshot:
    """A copy of the state DB; :meth:`remove` deletes it (and its folder)."""

    path: Path
    source_revision: str | None
    """The source's schema revision (``None``: it had no schema yet)."""
    rows: dict[str, int] = field(default_factory=dict)
    """Rows copied per table."""
    seconds: float = 0.0

    @property
    def url(self) -> str:
        return f"sqlite:///{self.path}"

    def remove(self) -> None:
        shutil.rmtree(self.path.parent, ignore_errors=True)


def snapshot_state(url: str, *, exclude: Collection[str] = (),
                   directory: Path | None = None) -> Snapshot:
    """Copy the state DB at ``url`` into a new temporary SQLite file (in ``directory``,
    else the system's temporary folder); tables named in ``exclude`` stay empty."""
    started = time.monotonic()
    folder = Path(tempfile.mkdtemp(prefix="sticky-sync-snapshot-", dir=directory))
    snapshot = Snapshot(folder / "state.db", None)
    try:
        source = _source_engine(url)
        target = create_state_engine(snapshot.url)
        try:
            if source is not None:
                with source.connect() as opened:
                    # PostgreSQL: every table read from the same snapshot
                    read = (opened.execution_options(isolation_level="REPEATABLE READ")
                            if source.dialect.name == "postgresql" else opened)
                    snapshot.source_revision = _revision(read)
                    if snapshot.source_revision is not None:
                        _upgrade(target, snapshot.source_revision)
                        snapshot.rows = _copy(read, target, exclude)
            migrate(target)  # a copy of an older revision is brought to the newest
        finally:
            target.dispose()
            if source is not None:
                source.dispose()
    except BaseException:
        snapshot.remove()
        raise
    snapshot.seconds = time.monotonic() - started
    return snapshot


@contextmanager
def snapshot_store(url: str, *, exclude: Collection[str] = (),
                   directory: Path | None = None) -> Iterator[tuple[StateStore, Snapshot]]:
    """A :class:`StateStore` on a fresh copy of the state DB at ``url``; the copy is
    closed and deleted when the block ends."""
    snapshot = snapshot_state(url, exclude=exclude, directory=directory)
    try:
        store = StateStore.open(snapshot.url)
        try:
            yield store, snapshot
        finally:
            store.close()
    finally:
        snapshot.remove()


def _source_engine(url: str) -> Engine | None:
    """An engine that only reads ``url``; ``None`` when there is nothing to read."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise ConfigurationError(f"state.url: {url!r} is not a database URL") from exc
    if parsed.get_backend_name() != "sqlite":
        return create_state_engine(url)
    database = parsed.database
    if not database or database == ":memory:":
        return None  # another process's in-memory DB cannot be read
    path = Path(database).expanduser()
    if not path.is_file():
        return None  # never created: nothing to copy (and nothing is created here)
    # Not create_state_engine: no pragmas (they could write) and a deferred BEGIN, so
    # reading takes no write lock and sees one consistent state of the file.
    engine = create_engine(f"sqlite:///{path}", connect_args={"timeout": 30}, future=True)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN")

    return engine


def _revision(conn: Connection) -> str | None:
    if not inspect(conn).has_table("alembic_version"):
        return None
    found = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    return None if found is None else str(found)


def _upgrade(engine: Engine, revision: str) -> None:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def _copy(read: Connection, target: Engine, exclude: Collection[str]) -> dict[str, int]:
    """Every table of the schema the copy has at this revision, with the columns it has
    there (the same as the source's at the same revision)."""
    counts: dict[str, int] = {}
    with target.begin() as write:
        present = inspect(write)
        for table in metadata.sorted_tables:
            if table.name in exclude or not present.has_table(table.name):
                continue
            names = {c["name"] for c in present.get_columns(table.name)}
            columns = [c for c in table.columns if c.name in names]
            query = select(*(_as_read(c) for c in columns)).order_by(
                *table.primary_key.columns)
            insert = table.insert().values({c.name: bindparam(
                c.name, type_=Text() if isinstance(c.type, JSON) else c.type)
                for c in columns})
            result = read.execution_options(yield_per=CHUNK_ROWS).execute(query)
            copied = 0
            for chunk in result.partitions():
                rows = [dict(row._mapping) for row in chunk]
                write.execute(insert, rows)
                copied += len(rows)
            counts[table.name] = copied
    return counts


def _as_read(column: Column[Any]) -> Any:
    """JSON documents travel as their text (no decoding and re-encoding, and a SQL NULL
    stays a SQL NULL instead of becoming JSON ``null``)."""
    if isinstance(column.type, JSON):
        return cast(column, Text).label(column.name)
    return column
