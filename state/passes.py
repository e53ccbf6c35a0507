"""Wallet passes: which Sticky customers want one, what was minted, what was installed.

A row is written ``wanted`` in the same transaction that records the customer as created
(or by ``passes mint``); the passes step mints it and records the link. The row is the
guard against minting twice: a customer with a row other than ``wanted`` is never minted
again, except by :meth:`Passes.want_remint`, which only accepts a link that expired
unused.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, Engine, Row, func, select, update

from state._sql import insert_ignore, utcnow
from state.schema import passes


class PassStatus(StrEnum):
    """Where a customer's wallet pass stands (the ``passes.status`` column)."""

    WANTED = "wanted"
    """To be minted by the next passes step."""
    MINTED = "minted"
    """Minted: its links are recorded."""
    INSTALLED = "installed"
    """Sticky reported the pass installed (a webhook)."""
    REJECTED = "rejected"
    """Sticky refused to mint it; ``passes mint`` asks again."""


@dataclass(frozen=True, slots=True)
class PassRecord:
    tenant: str
    workspace: str
    customer_id: str
    customer_key: str | None
    status: str
    reason: str
    generation: int
    pass_id: str | None
    install_url: str | None
    apple_url: str | None
    google_url: str | None
    expires_at: datetime | None
    minted_at: datetime | None
    installed_at: datetime | None
    platform: str | None
    attempts: int
    last_error: str | None

    def expired_unused(self, now: datetime) -> bool:
        return (self.status == PassStatus.MINTED and self.expires_at is not None
                and self.expires_at <= now)

    def valid(self, now: datetime) -> bool:
        """A link the customer can still use: minted, not installed, not expired."""
        return (self.status == PassStatus.MINTED and self.expires_at is not None
                and self.expires_at > now)


@dataclass(frozen=True, slots=True)
class MintedPass:
    pass_id: str
    install_url: str
    apple_url: str | None
    google_url: str | None
    expires_at: datetime


_FIELDS = tuple(PassRecord.__dataclass_fields__)


def _record(row: Row[Any]) -> PassRecord:
    return PassRecord(**{name: getattr(row, name) for name in _FIELDS})


class Passes:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def want(self, tenant: str, items: Iterable[tuple[str, str, str | None]],
             reason: str) -> int:
        """Ask for a pass for each ``(workspace, customer id, customer key)`` that has no
        row yet, in a transaction of its own; returns how many rows were added."""
        with self._engine.begin() as conn:
            return self.want_within(tenant, items, reason, conn)

    @staticmethod
    def want_within(tenant: str, items: Iterable[tuple[str, str, str | None]],
                    reason: str, conn: Connection) -> int:
        """:meth:`want` within the caller's transaction (``UnitOfWork.want_passes``)."""
        now = utcnow()
        rows = [{"tenant": tenant, "workspace": ws, "customer_id": cid, "customer_key": key,
                 "status": PassStatus.WANTED, "reason": reason, "generation": 0, "attempts": 0,
                 "created_at": now, "updated_at": now} for ws, cid, key in items]
        if not rows:
            return 0
        return insert_ignore(conn, passes, rows)

    def want_remint(self, tenant: str, workspace: str, customer_id: str,
                    now: datetime | None = None) -> bool:
        """Turn a link that expired unused back into ``wanted`` (next generation).
        False when the pass is valid, installed, or not minted."""
        moment = now or utcnow()
        with self._engine.begin() as conn:
            done = conn.execute(update(passes).where(
                passes.c.tenant == tenant, passes.c.workspace == workspace,
                passes.c.customer_id == customer_id, passes.c.status == PassStatus.MINTED,
                passes.c.expires_at <= moment,
            ).values(status=PassStatus.WANTED, reason="remint", generation=passes.c.generation + 1,
                     attempts=0, last_error=None, updated_at=utcnow()))
            return done.rowcount == 1

    def want_again(self, tenant: str, workspace: str, customer_id: str) -> bool:
        """A mint Sticky refused (never minted): ask for it again."""
        with self._engine.begin() as conn:
            done = conn.execute(update(passes).where(
                passes.c.tenant == tenant, passes.c.workspace == workspace,
                passes.c.customer_id == customer_id, passes.c.status == PassStatus.REJECTED,
            ).values(status=PassStatus.WANTED, reason="on_demand", attempts=0, last_error=None,
                     updated_at=utcnow()))
            return done.rowcount == 1

    def expired_unused(self, tenant: str, now: datetime | None = None,
                       limit: int = 500, below_generation: int | None = None,
                       ) -> list[PassRecord]:
        """Minted links past their expiry (never reported installed); with
        ``below_generation``, only those re-minted fewer times than that."""
        moment = now or utcnow()
        query = select(passes).where(passes.c.tenant == tenant,
                                     passes.c.status == PassStatus.MINTED,
                                     passes.c.expires_at <= moment)
        if below_generation is not None:
            query = query.where(passes.c.generation < below_generation)
        with self._engine.connect() as conn:
            rows = conn.execute(query.order_by(passes.c.expires_at).limit(limit)).all()
        return [_record(r) for r in rows]

    def wanted(self, tenant: str, limit: int = 500) -> list[PassRecord]:
        with self._engine.connect() as conn:
            rows = conn.execute(select(passes).where(
                passes.c.tenant == tenant, passes.c.status == PassStatus.WANTED)
                .order_by(passes.c.created_at, passes.c.customer_id).limit(limit)).all()
        return [_record(r) for r in rows]

    def get(self, tenant: str, workspace: str, customer_id: str) -> PassRecord | None:
        with self._engine.connect() as conn:
            row = conn.execute(select(passes).where(
                passes.c.tenant == tenant, passes.c.workspace == workspace,
                passes.c.customer_id == customer_id)).first()
        return None if row is None else _record(row)

    def of_customers(self, tenant: str,
                     customers: Sequence[tuple[str, str]]) -> dict[tuple[str, str], PassRecord]:
        """{(workspace, customer id): pass} for the given pairs that have a row."""
        wanted = set(customers)
        ids = sorted({cid for _, cid in wanted})
        out: dict[tuple[str, str], PassRecord] = {}
        with self._engine.connect() as conn:
            for start in range(0, len(ids), 500):
                rows = conn.execute(select(passes).where(
                    passes.c.tenant == tenant,
                    passes.c.customer_id.in_(ids[start:start + 500]))).all()
                for row in rows:
                    if (row.workspace, row.customer_id) in wanted:
                        out[(row.workspace, row.customer_id)] = _record(row)
        return out

    def all(self, tenant: str | None = None) -> list[PassRecord]:
        query = select(passes).order_by(passes.c.tenant, passes.c.workspace,
                                        passes.c.minted_at, passes.c.customer_id)
        if tenant is not None:
            query = query.where(passes.c.tenant == tenant)
        with self._engine.connect() as conn:
            return [_record(r) for r in conn.execute(query).all()]

    def record_minted(self, tenant: str, workspace: str, customer_id: str,
                      minted: MintedPass) -> None:
        with self._engine.begin() as conn:
            conn.execute(update(passes).where(
                passes.c.tenant == tenant, passes.c.workspace == workspace,
                passes.c.customer_id == customer_id, passes.c.status == PassStatus.WANTED,
            ).values(status=PassStatus.MINTED, pass_id=minted.pass_id,
                     install_url=minted.install_url,
                     apple_url=minted.apple_url, google_url=minted.google_url,
                     expires_at=minted.expires_at, minted_at=utcnow(),
                     attempts=passes.c.attempts + 1, last_error=None, updated_at=utcnow()))

    def record_failure(self, tenant: str, workspace: str, customer_id: str, error: str,
                       *, rejected: bool) -> None:
        """A refused mint (``rejected``, not retried) or a transient failure (stays
        ``wanted`` for the next step)."""
        values: dict[str, Any] = {"last_error": error, "attempts": passes.c.attempts + 1,
                                  "updated_at": utcnow()}
        if rejected:
            values["status"] = PassStatus.REJECTED
        with self._engine.begin() as conn:
            conn.execute(update(passes).where(
                passes.c.tenant == tenant, passes.c.workspace == workspace,
                passes.c.customer_id == customer_id, passes.c.status == PassStatus.WANTED)
                .values(**values))

    def mark_installed(self, workspace: str, customer_id: str, pass_id: str,
                       installed_at: datetime, platform: str | None,
                       conn: Connection) -> int:
        """Record an install reported by Sticky; returns the rows changed (0 when the pass
        is not one of ours, or not the customer's current one)."""
        done = conn.execute(update(passes).where(
            passes.c.workspace == workspace, passes.c.customer_id == customer_id,
            passes.c.pass_id == pass_id,
            passes.c.status.in_((PassStatus.MINTED, PassStatus.WANTED)),
        ).values(status=PassStatus.INSTALLED, installed_at=installed_at, platform=platform,
                 updated_at=utcnow()))
        return int(done.rowcount)

    def counts(self, tenant: str, now: datetime | None = None) -> dict[str, int]:
        """By status, with minted links split into ``valid`` and ``expired``."""
        moment = now or utcnow()
        with self._engine.connect() as conn:
            rows = conn.execute(select(passes.c.status, func.count()).where(
                passes.c.tenant == tenant).group_by(passes.c.status)).all()
            expired = conn.execute(select(func.count()).where(
                passes.c.tenant == tenant, passes.c.status == PassStatus.MINTED,
                passes.c.expires_at <= moment)).scalar_one()
        out = {str(status): int(n) for status, n in rows}
        minted = out.pop(PassStatus.MINTED, 0)
        if minted:
            out["valid"] = minted - int(expired)
            out["expired"] = int(expired)
        return {k: v for k, v in out.items() if v}
