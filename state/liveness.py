"""Whether a lease holder is still alive, asked of what outlives no process: the kernel or
the database server, never a PID (docs/architecture.md "Leases").

Each lease generation has a liveness lock its holder keeps for as long as it works:

- SQLite (one machine): an ``flock`` on a file per (tenant, source, generation) next to
  the DB. The kernel drops it when the process dies, in whatever PID namespace it ran.
- PostgreSQL: a session-level advisory lock, held on a connection of its own. The server
  drops it when that session ends (the process died, or its connection did).

A lock that can be taken by someone else means its holder is gone.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import tempfile
import threading
from pathlib import Path
from typing import Protocol

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import SQLAlchemyError


def lock_key(tenant: str, source: str, generation: int) -> int:
    """A signed 64-bit key (PostgreSQL's advisory lock space) for one lease generation."""
    digest = hashlib.sha256(f"sticky-sync\x1f{tenant}\x1f{source}\x1f{generation}".encode())
    return int.from_bytes(digest.digest()[:8], "big", signed=True)


class Held(Protocol):
    def alive(self) -> bool:
        """Still held (a PostgreSQL session can be cut under it)."""

    def close(self) -> None:
        """Let it go (idempotent)."""


class LivenessLocks(Protocol):
    def hold(self, tenant: str, source: str, generation: int) -> Held | None:
        """Take the lock of this generation, or ``None`` when someone holds it."""

    def held_elsewhere(self, tenant: str, source: str, generation: int) -> bool:
        """Whether someone holds this generation's lock (this process included)."""

    def forget(self, tenant: str, source: str, below: int) -> None:
        """Drop what older generations left behind (lock files)."""


class _HeldFile:
    def __init__(self, fd: int) -> None:
        self._fd: int | None = fd

    def alive(self) -> bool:
        return self._fd is not None

    def close(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


class FileLocks:
    """``flock`` on ``.<db name>.locks/<key>.<generation>.lock`` (an open file description of
    its own per holder, so two passes of one process exclude each other as well)."""

    def __init__(self, db: Path) -> None:
        db = db.resolve()  # one folder whatever the path (symlinks) a process came by
        self.folder = db.with_name(f".{db.name}.locks")  # hidden: not caught by state.db*

    def _path(self, tenant: str, source: str, generation: int) -> Path:
        name = hashlib.sha256(f"{tenant}\x1f{source}".encode()).hexdigest()[:20]
        return self.folder / f"{name}.{generation}.lock"

    def _try(self, path: Path) -> int | None:
        self.folder.mkdir(mode=0o700, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return None
        except BaseException:
            os.close(fd)
            raise
        return fd

    def hold(self, tenant: str, source: str, generation: int) -> Held | None:
        fd = self._try(self._path(tenant, source, generation))
        return None if fd is None else _HeldFile(fd)

    def held_elsewhere(self, tenant: str, source: str, generation: int) -> bool:
        fd = self._try(self._path(tenant, source, generation))
        if fd is None:
            return True
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
        return False

    def forget(self, tenant: str, source: str, below: int) -> None:
        stem = self._path(tenant, source, 0).name.split(".")[0]
        for path in self.folder.glob(f"{stem}.*.lock"):
            generation = path.name.split(".")[1]
            if generation.isdigit() and int(generation) < below:
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()


class _HeldSession:
    """One connection, used from the renewal thread and the releasing one: serialised."""

    def __init__(self, conn: Connection, key: int) -> None:
        self._conn: Connection | None = conn
        self._key = key
        self._lock = threading.Lock()

    def alive(self) -> bool:
        with self._lock:
            if self._conn is None:
                return False
            try:
                self._conn.execute(text("SELECT 1"))
                self._conn.commit()
                return True
            except SQLAlchemyError:
                pass
        self.close()
        return False

    def close(self) -> None:
        with self._lock:
            conn, self._conn = self._conn, None
            if conn is None:
                return
            try:
                conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": self._key})
                conn.commit()
            except SQLAlchemyError:
                conn.invalidate()  # a dead session: the server already dropped the lock
            finally:
                conn.close()


class AdvisoryLocks:
    """Session-level advisory locks, each on a connection kept for as long as it is held."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def hold(self, tenant: str, source: str, generation: int) -> Held | None:
        key = lock_key(tenant, source, generation)
        conn = self.engine.connect()
        try:
            got = conn.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": key}).scalar()
            conn.commit()
        except BaseException:
            conn.invalidate()  # it may hold the lock: never back into the pool
            conn.close()
            raise
        if not got:
            conn.close()
            return None
        return _HeldSession(conn, key)

    def held_elsewhere(self, tenant: str, source: str, generation: int) -> bool:
        held = self.hold(tenant, source, generation)
        if held is None:
            return True
        held.close()
        return False

    def forget(self, tenant: str, source: str, below: int) -> None:
        """Nothing is left behind: a session's locks end with it."""


def liveness_locks(engine: Engine, database: Path | None) -> LivenessLocks:
    """File locks next to a SQLite file, advisory locks on PostgreSQL."""
    if engine.dialect.name == "postgresql":
        return AdvisoryLocks(engine)
    if database is None:  # an in-memory DB lives in one process: a folder of its own
        database = Path(tempfile.mkdtemp(prefix="sticky-sync-locks-")) / "memory"
    return FileLocks(database)
