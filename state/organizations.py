"""The tenant's Sticker organization as Sticker last described it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, select

from state._sql import upsert, utcnow
from state.schema import organizations


@dataclass(frozen=True, slots=True)
class OrganizationRecord:
    tenant: str
    internal_org_id: str
    organization_id: str | None
    stripe_customer_id: str | None
    name: str | None
    created_by_us: bool | None
    locations: dict[str, dict[str, Any]] | None
    """Sticker's locations by internalShippingLocationId; None = never listed."""
    locations_listed_at: datetime | None
    created_at: datetime
    updated_at: datetime


class Organizations:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def get(self, tenant: str) -> OrganizationRecord | None:
        with self._engine.connect() as conn:
            row = conn.execute(select(organizations).where(
                organizations.c.tenant == tenant)).first()
        if row is None:
            return None
        return OrganizationRecord(
            tenant=row.tenant, internal_org_id=row.internal_org_id,
            organization_id=row.organization_id, stripe_customer_id=row.stripe_customer_id,
            name=row.name, created_by_us=row.created_by_us,
            locations=None if row.locations is None else dict(row.locations),
            locations_listed_at=row.locations_listed_at, created_at=row.created_at,
            updated_at=row.updated_at)

    def save(self, tenant: str, internal_org_id: str, *, organization_id: str | None,
             stripe_customer_id: str | None, name: str | None,
             created_by_us: bool | None,
             locations: dict[str, dict[str, Any]] | None) -> None:
        """Record what Sticker answered. Fields given as ``None`` keep their stored value
        (a 409 tells us the organization exists, not what it holds)."""
        now = utcnow()
        row: dict[str, Any] = {
            "tenant": tenant, "internal_org_id": internal_org_id, "created_at": now,
            "updated_at": now, "organization_id": organization_id,
            "stripe_customer_id": stripe_customer_id, "name": name,
            "created_by_us": created_by_us, "locations": locations,
            "locations_listed_at": now if locations is not None else None}
        current = self.get(tenant)
        if current is not None:
            for column in ("organization_id", "stripe_customer_id", "name", "created_by_us",
                           "locations", "locations_listed_at"):
                if row[column] is None:
                    row[column] = getattr(current, column)
        with self._engine.begin() as conn:
            upsert(conn, organizations, [row], keys=("tenant",),
                   update=[c for c in row if c not in ("tenant", "created_at")])
