"""Moving SQLite's WAL checkpoints off the commit path.

With ``synchronous=NORMAL`` a WAL commit does not fsync, but the commit that makes the WAL
pass ``wal_autocheckpoint`` pages runs the checkpoint itself, fsync included: measured
here, a settle commit then stalled for 1 to 2.6 s, and with it every request waiting to be
settled. Connections therefore have auto-checkpointing off, and this thread checkpoints
(PASSIVE: it never blocks writers) every few seconds on its own connection.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

CHECKPOINT_EVERY_SECONDS = 2.0


class WalCheckpointer:
    def __init__(self, engine: Engine, interval: float = CHECKPOINT_EVERY_SECONDS) -> None:
        self._engine = engine
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="sqlite-checkpoint",
                                        daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(self._interval):
            # a failing DB (locked, full disk) is reported by the writer that meets it; a
            # checkpoint not done now is done by the next one
            with contextlib.suppress(sqlite3.Error, SQLAlchemyError):
                self.checkpoint("PASSIVE")

    def checkpoint(self, mode: str) -> None:
        raw = self._engine.raw_connection()
        try:
            raw.driver_connection.execute(f"PRAGMA wal_checkpoint({mode})")  # type: ignore[union-attr]
        finally:
            raw.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        # closing must not hide the failure that ended the command: a WAL left behind is
        # replayed by SQLite at the next open
        with contextlib.suppress(sqlite3.Error, SQLAlchemyError):
            self.checkpoint("TRUNCATE")
