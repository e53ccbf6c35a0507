"""What went wrong with the state DB, in one line that names it, says what is wrong and
what to do (docs/operations.md "When the state DB fails"). Every such failure ends a
command with exit code 5; nothing is lost: what was read and not settled is resent
through the ledger (same idempotency keys) by the next run."""

from __future__ import annotations

import errno
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy.engine import make_url

from connector.errors import StateUnavailable

NOTHING_LOST = ("nothing is lost: what was read and not settled is resent by the next run, "
                "under the same idempotency keys")


def shown(url: str) -> str:
    """The DB as it may be printed: a file path, or host/database without credentials."""
    try:
        parsed = make_url(url)
    except Exception:  # noqa: BLE001 - a URL that does not parse is shown cut
        return url.rsplit("@", maxsplit=1)[-1]
    if parsed.get_backend_name() == "sqlite":
        return str(parsed.database or ":memory:")
    return parsed.render_as_string(hide_password=True).split("@", 1)[-1]


def describe(exc: BaseException, url: str, busy_timeout: float) -> StateUnavailable:
    """A failure of the state DB at ``url`` as :class:`StateUnavailable`."""
    cause = getattr(exc, "orig", None) or exc
    text = str(cause).strip().splitlines()[0] if str(cause).strip() else type(cause).__name__
    lower = text.lower()
    name = f"state DB {shown(url)}"
    if "locked" in lower or "lock timeout" in lower:
        what = (f"is locked by another process for more than {busy_timeout:g} s (another "
                "sticky-sync, a backup, or a sqlite3 shell holding a write transaction); "
                "let it finish or stop it, or raise [state] busy_timeout_seconds")
    elif "disk is full" in lower or "disk i/o error" in lower or _errno(cause) in (
            errno.ENOSPC, errno.EFBIG, errno.EDQUOT):
        what = ("cannot be written: the disk is full, a file size limit was reached, or "
                f"the disk is failing ({text}); free space and run again")
    elif "not a database" in lower or "malformed" in lower or "encrypted" in lower:
        what = ("is not a readable SQLite database: the file is damaged; restore it from "
                "a backup (or move it away: a new ledger would send everything again, "
                "de-duplicated by Sticky on phone)")
    elif "readonly" in lower or "read-only" in lower:
        what = "is read-only for this user: give it (and its folder) write permission"
    elif "unable to open" in lower:
        what = "cannot be opened: check that its folder exists and is writable"
    elif url.startswith("postgres") and any(word in lower for word in (
            "connect", "connection", "refused", "timeout", "could not translate",
            "server closed", "terminating")):
        what = (f"cannot be reached ({text}): is the PostgreSQL server running and "
                "reachable from here? Check state.url")
    else:
        what = f"failed ({type(cause).__name__}: {text})"
    return StateUnavailable(f"{name} {what}; {NOTHING_LOST}.")


def _errno(cause: BaseException) -> int | None:
    value = getattr(cause, "errno", None)
    return value if isinstance(value, int) else None


def wait_while_locked(path: Path, busy_timeout: float,
                      on_wait: Callable[[str], None]) -> None:
    """Before using a SQLite state DB another process holds a write lock on, say so
    (``on_wait``) and wait up to ``busy_timeout`` for it; still locked then: raise."""
    if not path.exists():
        return
    deadline = time.monotonic() + busy_timeout
    said = False
    while True:
        try:
            conn = sqlite3.connect(path, timeout=0, isolation_level=None)
        except sqlite3.Error:
            return  # opening fails for another reason: open() reports it
        try:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("ROLLBACK")
            return
        except sqlite3.DatabaseError as exc:  # "not a database", I/O...: open() reports it
            if "locked" not in str(exc) and "busy" not in str(exc):
                return
        finally:
            conn.close()
        if not said:
            on_wait(f"state DB {path} is locked by another process: waiting up to "
                    f"{busy_timeout:g} s ([state] busy_timeout_seconds)")
            said = True
        if time.monotonic() >= deadline:
            raise describe(sqlite3.OperationalError("database is locked"),
                           f"sqlite:///{path}", busy_timeout)
        time.sleep(0.2)
