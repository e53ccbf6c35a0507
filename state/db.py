"""Opening the state DB: engine set-up per backend and schema migration."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from connector.errors import ConfigurationError

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


DEFAULT_BUSY_TIMEOUT = 30.0
"""Seconds a SQLite write waits for another process's lock before giving up."""
CONNECT_TIMEOUT = 10
"""Seconds a PostgreSQL connection attempt may take."""


def create_state_engine(url: str, busy_timeout: float = DEFAULT_BUSY_TIMEOUT) -> Engine:
    """An engine for ``url``; SQLite gets WAL, a busy timeout and ``BEGIN IMMEDIATE``.

    ``BEGIN IMMEDIATE`` takes the write lock when a transaction starts: with the default
    deferred BEGIN, a read-then-write transaction that meets another writer fails at once
    with "database is locked" and the busy timeout does not help (two processes, e.g. a
    cron run next to the daemon, share this file).
    """
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise ConfigurationError(f"state.url: {url!r} is not a database URL") from exc
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(url, parsed.database, busy_timeout)
    if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    # every running pass keeps one connection for its lease's advisory lock (the
    # daemon runs many at once), besides the ones its writes borrow
    engine = create_engine(parsed, pool_pre_ping=True, future=True, pool_size=10,
                           max_overflow=50, connect_args={"connect_timeout": CONNECT_TIMEOUT})
    waits = int(busy_timeout * 1000)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # a lock another session holds is waited for up to busy_timeout, as on SQLite;
        # a session left inside a transaction that long (its process paused or hung) is
        # ended by the server, which drops its locks: a replica paused mid-write cannot
        # block the others for ever (set after connecting: PgBouncer refuses startup
        # options)
        with dbapi_conn.cursor() as cur:
            cur.execute(f"SET lock_timeout = {waits}")
            cur.execute(f"SET idle_in_transaction_session_timeout = {waits}")
        dbapi_conn.commit()

    return engine


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite state DB URL (``None``: another backend, or in memory)."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise ConfigurationError(f"state.url: {url!r} is not a database URL") from exc
    if parsed.get_backend_name() != "sqlite" or not parsed.database or (
            parsed.database == ":memory:"):
        return None
    return Path(parsed.database).expanduser()


DEFAULT_FOLDER = "var"
"""The default state DB lives in ``./var/`` (next to the config): that one folder is
created when missing; any other missing folder is refused, because a misspelt path
would start an empty ledger and send everything again."""


def create_private(path: Path) -> None:
    """Create the (empty) SQLite file with mode 600 before SQLite does, whatever the
    umask: it holds phone numbers and e-mails, and SQLite gives its -wal and -shm files
    the mode of the DB file. An existing file is left as it is (``check`` notes one that
    others can read)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError:  # it exists; or SQLite meets the same problem and reports it
        return
    os.fchmod(fd, 0o600)
    os.close(fd)


def _sqlite_engine(url: str, database: str | None, busy_timeout: float) -> Engine:
    if database and database != ":memory:":
        folder = Path(database).expanduser().parent
        if not folder.is_dir():
            if folder.name != DEFAULT_FOLDER or not folder.parent.is_dir():
                raise ConfigurationError(
                    f"state.url: the folder {folder} does not exist; create it or fix "
                    "state.url (a misspelt path would start an empty ledger and send "
                    "everything again)")
            folder.mkdir(mode=0o700, exist_ok=True)
        create_private(Path(database).expanduser())
    engine = create_engine(url, connect_args={"timeout": busy_timeout}, future=True)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA wal_autocheckpoint=0")  # see state/checkpointer.py
        cur.execute("PRAGMA foreign_keys=ON")
        # freed space is zeroed: a purged (erased) customer leaves no bytes behind
        cur.execute("PRAGMA secure_delete=ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


MIGRATION_LOCK = 0x5715C4_5F0C
"""PostgreSQL advisory lock key taken around migrations: replicas starting together
(a rolling upgrade) migrate one at a time; the others then find the schema current."""


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision (idempotent). On PostgreSQL under a
    transaction-level advisory lock; SQLite's ``BEGIN IMMEDIATE`` serialises already."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
