"""Needs-attention items: situations the connector detected but cannot fix by itself and
will not retry (e.g. a store Sticker cannot add to an existing organization)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, select, update

from state._sql import upsert, utcnow
from state.schema import attention


@dataclass(frozen=True, slots=True)
class AttentionItem:
    scope: str
    kind: str
    key: str
    message: str
    first_seen_at: datetime
    last_seen_at: datetime


class Attention:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def raise_item(self, tenant: str, scope: str, kind: str, key: str, message: str) -> None:
        """Open (or refresh, or reopen) one item; its first sighting is kept."""
        now = utcnow()
        row = {"tenant": tenant, "scope": scope, "kind": kind, "key": key,
               "message": message, "first_seen_at": now, "last_seen_at": now,
               "resolved_at": None}
        with self._engine.begin() as conn:
            upsert(conn, attention, [row], keys=("tenant", "scope", "kind", "key"),
                   update=("message", "last_seen_at", "resolved_at"))

    def resolve(self, tenant: str, scope: str, kind: str, key: str) -> None:
        with self._engine.begin() as conn:
            conn.execute(update(attention).where(
                attention.c.tenant == tenant, attention.c.scope == scope,
                attention.c.kind == kind, attention.c.key == key,
                attention.c.resolved_at.is_(None)).values(resolved_at=utcnow()))

    def resolve_others(self, tenant: str, scope: str, kind: str,
                       still_open: Iterable[str]) -> int:
        """Resolve the open items of ``kind`` whose key is not in ``still_open``."""
        keep = set(still_open)
        with self._engine.begin() as conn:
            rows = conn.execute(select(attention.c.id, attention.c.key).where(
                attention.c.tenant == tenant, attention.c.scope == scope,
                attention.c.kind == kind, attention.c.resolved_at.is_(None))).all()
            ids = [r.id for r in rows if r.key not in keep]
            if ids:
                conn.execute(update(attention).where(attention.c.id.in_(ids))
                             .values(resolved_at=utcnow()))
        return len(ids)

    def open_items(self, tenant: str, scope: str | None = None) -> list[AttentionItem]:
        query = select(attention).where(attention.c.tenant == tenant,
                                        attention.c.resolved_at.is_(None))
        if scope is not None:
            query = query.where(attention.c.scope == scope)
        with self._engine.connect() as conn:
            rows = conn.execute(query.order_by(attention.c.first_seen_at,
                                               attention.c.id)).all()
        return [AttentionItem(r.scope, r.kind, r.key, r.message, r.first_seen_at,
                              r.last_seen_at) for r in rows]
