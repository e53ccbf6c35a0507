"""Leases: at most one process works on a (tenant, source) at a time, and one that lost
its lease can no longer write (docs/architecture.md "Leases").

A lease row holds its holder, a **generation** that grows with every new holder, and an
expiry computed by the database's clock (PostgreSQL's ``clock_timestamp()``; SQLite lives
on one machine, whose clock it is). Taking one is one transaction on the locked row:

- free (never held, released, expired), or its holder is gone (the liveness lock of its
  generation can be taken: ``state/liveness.py``, kernel file locks or PostgreSQL advisory
  locks, never a PID), then the generation is bumped and its liveness lock kept;
- otherwise it is busy.

A holder that was paused past its expiry finds, when it resumes, a newer generation: its
renewal fails, and every checkpoint or settle it tries fails too, because those check the
generation in their own transaction (:meth:`Leases.fence`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import Connection, Engine, bindparam, select, text, update

from connector.errors import LeaseLost
from state._sql import insert_ignore, utcnow
from state.liveness import Held, LivenessLocks, liveness_locks
from state.schema import leases


@dataclass(frozen=True, slots=True)
class LeaseInfo:
    holder: str
    expires_at: datetime
    generation: int = 0


@dataclass(slots=True)
class Lease:
    """A lease this process holds: what fences its writes."""

    tenant: str
    source: str
    holder: str
    generation: int
    expires_at: datetime
    held: Held | None = field(default=None, repr=False, compare=False)

    def alive(self) -> bool:
        return self.held is not None and self.held.alive()

    def let_go(self) -> None:
        if self.held is not None:
            self.held.close()
            self.held = None


def db_now(conn: Connection) -> datetime:
    """Now by the database's clock (the host's for SQLite: one machine)."""
    if conn.dialect.name == "postgresql":
        value = conn.execute(text("SELECT clock_timestamp()")).scalar_one()
        assert isinstance(value, datetime)
        return value
    return utcnow()


_FENCE = select(leases.c.holder, leases.c.generation).where(
    leases.c.tenant == bindparam("fence_tenant"),
    leases.c.source == bindparam("fence_source")).with_for_update(read=True)
"""Built once: it runs in every settle and checkpoint transaction."""


class Leases:
    def __init__(self, engine: Engine, database: Path | None = None) -> None:
        self._engine = engine
        self.locks: LivenessLocks = liveness_locks(engine, database)

    def acquire(self, tenant: str, source: str, holder: str, ttl: float) -> Lease | None:
        """The lease, or ``None`` while a live holder keeps it."""
        held: Held | None = None
        try:
            with self._engine.begin() as conn:
                now = db_now(conn)
                insert_ignore(conn, leases, [{
                    "tenant": tenant, "source": source, "holder": None, "generation": 0,
                    "acquired_at": now, "expires_at": now}])
                row = conn.execute(select(leases).where(
                    leases.c.tenant == tenant, leases.c.source == source)
                    .with_for_update()).one()
                if row.holder is not None and row.expires_at > now and (
                        self.locks.held_elsewhere(tenant, source, row.generation)):
                    return None
                generation = row.generation + 1
                held = self.locks.hold(tenant, source, generation)
                if held is None:  # cannot happen under the row lock; busy all the same
                    return None
                expires = now + timedelta(seconds=ttl)
                conn.execute(update(leases).where(
                    leases.c.tenant == tenant, leases.c.source == source).values(
                    holder=holder, generation=generation, acquired_at=now,
                    expires_at=expires))
        except BaseException:
            if held is not None:
                held.close()
            raise
        self.locks.forget(tenant, source, below=generation)
        return Lease(tenant, source, holder, generation, expires, held)

    def renew(self, lease: Lease, ttl: float) -> bool:
        """Push the expiry out; ``False`` once another holder took the lease (or this
        one's liveness lock was lost with its database session)."""
        with self._engine.begin() as conn:
            now = db_now(conn)
            result = conn.execute(update(leases).where(
                leases.c.tenant == lease.tenant, leases.c.source == lease.source,
                leases.c.holder == lease.holder,
                leases.c.generation == lease.generation).values(
                expires_at=now + timedelta(seconds=ttl)))
            if result.rowcount != 1:
                return False
            lease.expires_at = now + timedelta(seconds=ttl)
        return lease.alive()

    def release(self, lease: Lease) -> None:
        """Give it up: the row keeps its generation (so an old holder stays fenced), the
        liveness lock goes even when the database cannot be written."""
        try:
            with self._engine.begin() as conn:
                conn.execute(update(leases).where(
                    leases.c.tenant == lease.tenant, leases.c.source == lease.source,
                    leases.c.holder == lease.holder,
                    leases.c.generation == lease.generation).values(
                    holder=None, expires_at=db_now(conn)))
        finally:
            lease.let_go()

    @staticmethod
    def fence(conn: Connection, lease: Lease | None) -> None:
        """In the caller's transaction: raise :class:`LeaseLost` unless ``lease`` is still
        the current one (``None``: an unleased write, e.g. a dry run or a test)."""
        if lease is None:
            return
        # FOR SHARE on PostgreSQL: a takeover (FOR UPDATE) waits for this write to end,
        # so it cannot commit between this check and the write (SQLite: BEGIN IMMEDIATE)
        row = conn.execute(_FENCE, {"fence_tenant": lease.tenant,
                                    "fence_source": lease.source}).first()
        if row is None or (row.holder, row.generation) != (lease.holder, lease.generation):
            raise LeaseLost(
                f"{lease.tenant}/{lease.source}: this run's lease (generation "
                f"{lease.generation}) was taken over"
                + (f" by {row.holder} (generation {row.generation})" if row else "")
                + "; it stops, and the holder goes on from the last checkpoint")

    def holder(self, tenant: str, source: str) -> LeaseInfo | None:
        """Who works on the source now (``None``: nobody, or a holder that expired)."""
        with self._engine.connect() as conn:
            now = db_now(conn)
            row = conn.execute(select(leases).where(
                leases.c.tenant == tenant, leases.c.source == source)).first()
        if row is None or row.holder is None or row.expires_at <= now:
            return None  # what acquire() would take at once
        if not self.locks.held_elsewhere(tenant, source, row.generation):
            return None  # its holder is gone
        return LeaseInfo(row.holder, row.expires_at, row.generation)

    def all(self) -> list[tuple[str, str, LeaseInfo]]:
        """Every source some process works on now: (tenant, source, lease)."""
        with self._engine.connect() as conn:
            rows = conn.execute(select(leases.c.tenant, leases.c.source).where(
                leases.c.holder.is_not(None))).all()
        found = []
        for tenant, source in rows:
            info = self.holder(tenant, source)
            if info is not None:
                found.append((tenant, source, info))
        return found
