"""What the connector knows about each source customer: the latest profile read from the
source (needed to create the customer in another store's workspace later) and the Sticky
customer id per workspace (the identity map)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, Engine, bindparam, select

from state._sql import upsert, utcnow
from state.schema import identities, profiles


@dataclass(frozen=True, slots=True)
class Profile:
    customer_key: str
    phone: str
    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    store_id: str | None = None
    sms_consent: bool | None = None
    sms_consent_at: datetime | None = None
    sms_consent_source: str | None = None
    email_consent: bool | None = None
    email_consent_at: datetime | None = None
    source_updated_at: datetime | None = None


_PROFILE_FIELDS = tuple(Profile.__dataclass_fields__)
LOOKUP_CHUNK = 500
"""Keys per ``IN (...)`` look-up."""

# Built once (the planner looks up every slice of every batch); the columns in the order
# of Profile's fields, so a row is the Profile's arguments.
_PROFILES_OF = select(*(profiles.c[name] for name in _PROFILE_FIELDS)).where(
    profiles.c.tenant == bindparam("tenant"),
    profiles.c.customer_key.in_(bindparam("keys", expanding=True)))
_IDENTITIES_OF = select(identities.c.customer_key, identities.c.workspace,
                        identities.c.remote_id).where(
    identities.c.tenant == bindparam("tenant"),
    identities.c.customer_key.in_(bindparam("keys", expanding=True)))


class Customers:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    # -- profiles -------------------------------------------------------------------
    def profiles(self, tenant: str, keys: Iterable[str]) -> dict[str, Profile]:
        wanted = sorted(set(keys))
        out: dict[str, Profile] = {}
        if not wanted:
            return out
        with self._engine.connect() as conn:
            for start in range(0, len(wanted), LOOKUP_CHUNK):
                rows = conn.execute(_PROFILES_OF, {
                    "tenant": tenant, "keys": wanted[start:start + LOOKUP_CHUNK]}).all()
                out.update({r[0]: Profile(*r) for r in rows})
        return out

    def key_for_phone(self, tenant: str, phone: str) -> str | None:
        with self._engine.connect() as conn:
            row = conn.execute(select(profiles.c.customer_key).where(
                profiles.c.tenant == tenant, profiles.c.phone == phone)
                .order_by(profiles.c.customer_key)).first()
        return None if row is None else str(row.customer_key)

    def save_profiles(self, tenant: str, items: Iterable[Profile]) -> None:
        now = utcnow()
        # the fields one by one, not asdict(): it deep-copies every value (all immutable)
        rows = [{"tenant": tenant, "updated_at": now,
                 **{name: getattr(p, name) for name in _PROFILE_FIELDS}} for p in items]
        if not rows:
            return
        with self._engine.begin() as conn:
            upsert(conn, profiles, rows, keys=("tenant", "customer_key"),
                   update=[*(f for f in _PROFILE_FIELDS if f != "customer_key"), "updated_at"])

    # -- identities -----------------------------------------------------------------
    def identities(self, tenant: str, keys: Iterable[str]) -> dict[tuple[str, str], str]:
        """{(customer_key, workspace): Sticky customer id} for the given customer keys."""
        wanted = sorted(set(keys))
        out: dict[tuple[str, str], str] = {}
        if not wanted:
            return out
        with self._engine.connect() as conn:
            for start in range(0, len(wanted), LOOKUP_CHUNK):
                rows = conn.execute(_IDENTITIES_OF, {
                    "tenant": tenant, "keys": wanted[start:start + LOOKUP_CHUNK]}).all()
                out.update({(key, workspace): remote for key, workspace, remote in rows})
        return out

    def save_identity(self, tenant: str, customer_key: str, workspace: str,
                      remote_id: str) -> None:
        """Record an identity in a transaction of its own."""
        with self._engine.begin() as conn:
            self.save_identities_within(tenant, [(customer_key, workspace, remote_id)], conn)

    @staticmethod
    def save_identity_within(tenant: str, customer_key: str, workspace: str,
                             remote_id: str, conn: Connection) -> None:
        """Record an identity within the caller's transaction (``UnitOfWork``)."""
        Customers.save_identities_within(tenant, [(customer_key, workspace, remote_id)], conn)

    @staticmethod
    def save_identities_within(tenant: str, items: Sequence[tuple[str, str, str]],
                               conn: Connection) -> None:
        """In the caller's transaction, one statement: ``(customer key, workspace,
        Sticky customer id)`` each (a later item of the same key and workspace wins)."""
        now = utcnow()
        upsert(conn, identities, [{
            "tenant": tenant, "customer_key": key, "workspace": workspace,
            "remote_id": remote_id, "created_at": now, "updated_at": now,
        } for key, workspace, remote_id in items],
            keys=("tenant", "customer_key", "workspace"), update=("remote_id", "updated_at"))

    def count_identities(self, tenant: str) -> int:
        with self._engine.connect() as conn:
            return len(conn.execute(select(identities.c.customer_key).where(
                identities.c.tenant == tenant)).all())

    def keys_for_remote(self, workspace: str, remote_id: str) -> list[tuple[str, str]]:
        """(tenant, customer key) of every source customer mapped to this Sticky customer."""
        with self._engine.connect() as conn:
            rows = conn.execute(select(identities.c.tenant, identities.c.customer_key).where(
                identities.c.workspace == workspace, identities.c.remote_id == remote_id)
                .order_by(identities.c.tenant, identities.c.customer_key)).all()
        return [(str(r.tenant), str(r.customer_key)) for r in rows]
