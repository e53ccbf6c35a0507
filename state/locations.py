"""The tenant's stores as the sources last reported them (Sticker shipping locations)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, select

from state._sql import upsert, utcnow
from state.schema import locations


@dataclass(frozen=True, slots=True)
class StoredLocation:
    key: str
    source: str
    locator: str
    payload: dict[str, Any]
    payload_hash: str


class Locations:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def save(self, tenant: str, items: Sequence[StoredLocation]) -> None:
        """Upsert: the latest row read for a store wins (its first sighting is kept)."""
        if not items:
            return
        now = utcnow()
        rows = [{"tenant": tenant, "location_key": i.key, "source": i.source,
                 "locator": i.locator, "payload": i.payload, "payload_hash": i.payload_hash,
                 "first_seen_at": now, "updated_at": now} for i in items]
        with self._engine.begin() as conn:
            upsert(conn, locations, rows, keys=("tenant", "location_key"),
                   update=("source", "locator", "payload", "payload_hash", "updated_at"))

    def all_for(self, tenant: str) -> dict[str, StoredLocation]:
        with self._engine.connect() as conn:
            rows = conn.execute(select(locations).where(locations.c.tenant == tenant)
                                .order_by(locations.c.location_key)).all()
        return {r.location_key: StoredLocation(r.location_key, r.source, r.locator,
                                               dict(r.payload), r.payload_hash) for r in rows}
