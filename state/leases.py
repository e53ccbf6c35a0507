"""Leases: at most one process works on a (tenant, source) at a time.

A lease has a TTL and is renewed while work goes on, so a crashed holder's lease
simply expires. Claiming is one conditional write, safe under SQLite's
``BEGIN IMMEDIATE`` and PostgreSQL's row locks alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, delete, select, update

from state._sql import utcnow
from state.schema import leases


@dataclass(frozen=True, slots=True)
class LeaseInfo:
    holder: str
    expires_at: datetime


class Leases:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def acquire(self, tenant: str, source: str, holder: str, ttl: float) -> bool:
        now = utcnow()
        expires = now + timedelta(seconds=ttl)
        with self._engine.begin() as conn:
            row = conn.execute(select(leases).where(
                leases.c.tenant == tenant, leases.c.source == source)
                .with_for_update()).first()
            if row is None:
                conn.execute(leases.insert().values(
                    tenant=tenant, source=source, holder=holder, acquired_at=now,
                    expires_at=expires))
                return True
            if row.holder != holder and row.expires_at > now:
                return False
            conn.execute(update(leases).where(
                leases.c.tenant == tenant, leases.c.source == source).values(
                holder=holder, acquired_at=now, expires_at=expires))
            return True

    def take_over(self, tenant: str, source: str, stale_holder: str, holder: str,
                  ttl: float) -> bool:
        """Replace ``stale_holder`` (known dead) by ``holder``, if it still holds the lease."""
        now = utcnow()
        with self._engine.begin() as conn:
            result = conn.execute(update(leases).where(
                leases.c.tenant == tenant, leases.c.source == source,
                leases.c.holder == stale_holder).values(
                holder=holder, acquired_at=now, expires_at=now + timedelta(seconds=ttl)))
            return result.rowcount == 1

    def renew(self, tenant: str, source: str, holder: str, ttl: float) -> bool:
        with self._engine.begin() as conn:
            result = conn.execute(update(leases).where(
                leases.c.tenant == tenant, leases.c.source == source,
                leases.c.holder == holder).values(
                expires_at=utcnow() + timedelta(seconds=ttl)))
            return result.rowcount == 1

    def release(self, tenant: str, source: str, holder: str) -> None:
        with self._engine.begin() as conn:
            conn.execute(delete(leases).where(
                leases.c.tenant == tenant, leases.c.source == source,
                leases.c.holder == holder))

    def holder(self, tenant: str, source: str) -> LeaseInfo | None:
        with self._engine.connect() as conn:
            row = conn.execute(select(leases).where(
                leases.c.tenant == tenant, leases.c.source == source)).first()
        if row is None or row.expires_at <= utcnow():
            return None
        return LeaseInfo(holder=row.holder, expires_at=row.expires_at)
