"""Erased customers: what the connector purges when a source erases a person, and the
salted digests that keep a later re-read from bringing them back (docs/privacy.md).

Nothing here stores a phone, an e-mail or a name: only HMAC-SHA256 digests under a salt
made once per state DB (``state_meta.erasure_salt``), so the table cannot be reversed
with a list of all phone numbers unless the salt is taken with it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    Text,
    case,
    cast,
    delete,
    func,
    or_,
    select,
    text,
    update,
)

from state._sql import insert_ignore, upsert, utcnow
from state.ledger import LedgerStatus
from state.schema import (
    attention,
    erasures,
    identities,
    ledger,
    loyalty,
    passes,
    profiles,
    record_issues,
    state_meta,
    webhook_events,
)

KEY = "key"
PHONE = "phone"
EMAIL = "email"
SALT_NAME = "erasure_salt"
ERASED_PREFIX = "erased:"
"""Ledger keys and subjects of an erased customer become ``erased:<digest>``."""
ERASED_ERROR = "not sent: the customer was erased at the source"
ATTENTION_SCOPE = "erasure"
ATTENTION_KIND = "erase_in_sticky"


@dataclass(frozen=True, slots=True)
class Digests:
    """The salted digests of a tenant's erased customers, by kind."""

    keys: frozenset[str] = frozenset()
    phones: frozenset[str] = frozenset()
    emails: frozenset[str] = frozenset()

    def __bool__(self) -> bool:
        return bool(self.keys or self.phones or self.emails)


Mentions = Callable[[Any, Digests], bool]
"""Whether a stored document (a raw source row, a record) holds a value whose digest is
among the given ones (connector/erasure.py knows how to read phones and e-mails)."""


@dataclass(frozen=True, slots=True)
class ErasedPerson:
    """A customer a source erased, as the connector knows it."""

    customer_key: str
    why: str
    """How it was erased, for the attention item ("erased at the source shopify")."""
    phones: tuple[str, ...] = ()
    """E.164 numbers the erasing record still carried (besides the stored profile)."""
    emails: tuple[str, ...] = ()


@dataclass(slots=True)
class Purged:
    """What one erasure removed from the state DB."""

    customer_key: str
    sticky_ids: list[tuple[str, str]] = field(default_factory=list)
    """(workspace, Sticky customer id) the connector had created or matched: to be erased
    in Sticky by a person (its documented API has no delete)."""
    profiles: int = 0
    ledger_rows: int = 0
    issues: int = 0
    passes: int = 0
    known_before: bool = False
    """The state DB knew this customer (a profile, an identity or a ledger row)."""


class Erasures:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._salt: bytes | None = None

    # -- digests ------------------------------------------------------------------
    def salt(self) -> bytes:
        if self._salt is None:
            with self._engine.begin() as conn:
                insert_ignore(conn, state_meta, [{"name": SALT_NAME,
                                                  "value": secrets.token_hex(32)}])
                value = conn.execute(select(state_meta.c.value).where(
                    state_meta.c.name == SALT_NAME)).scalar_one()
            self._salt = bytes.fromhex(value)
        return self._salt

    def digest(self, kind: str, value: str) -> str:
        return hmac.new(self.salt(), f"{kind}\x1f{value}".encode(),
                        hashlib.sha256).hexdigest()

    def any(self, tenant: str) -> bool:
        with self._engine.connect() as conn:
            return conn.execute(select(erasures.c.digest).where(
                erasures.c.tenant == tenant).limit(1)).first() is not None

    def erased_keys(self, tenant: str, keys: Iterable[str]) -> set[str]:
        """Which of the customer ``keys`` were erased."""
        with self._engine.connect() as conn:
            return self.erased_within(tenant, KEY, keys, conn)

    def erased_phones(self, tenant: str, phones: Iterable[str]) -> set[str]:
        """Which of these E.164 phones belong to an erased customer (Sticky keys its
        customers by phone: a record with one would bring the person back)."""
        with self._engine.connect() as conn:
            return self.erased_within(tenant, PHONE, phones, conn)

    def erased_within(self, tenant: str, kind: str, values: Iterable[str],
                      conn: Connection) -> set[str]:
        """Which ``values`` of ``kind`` (KEY, PHONE) were erased, read on ``conn`` (in
        the caller's transaction when it is one: ``UnitOfWork.erased_keys``)."""
        by_digest = {self.digest(kind, v): v for v in set(values)}
        if not by_digest:
            return set()
        found: set[str] = set()
        digests = sorted(by_digest)
        for start in range(0, len(digests), 500):
            rows = conn.execute(select(erasures.c.digest).where(
                erasures.c.tenant == tenant, erasures.c.kind == kind,
                erasures.c.digest.in_(digests[start:start + 500]))).scalars()
            found.update(by_digest[d] for d in rows)
        return found

    def release_phone(self, tenant: str, phone: str) -> bool:
        """Let records with this E.164 phone be sent again (the person signed up anew
        and consented); the erased customer keys stay blocked. True if it was blocked."""
        digest = self.digest(PHONE, phone)  # the salt is read outside the transaction
        with self._engine.begin() as conn:
            return bool(conn.execute(delete(erasures).where(
                erasures.c.tenant == tenant, erasures.c.kind == PHONE,
                erasures.c.digest == digest)).rowcount)

    def digests(self, tenant: str) -> Digests:
        with self._engine.connect() as conn:
            rows = conn.execute(select(erasures.c.kind, erasures.c.digest).where(
                erasures.c.tenant == tenant)).all()
        by_kind: dict[str, set[str]] = {KEY: set(), PHONE: set(), EMAIL: set()}
        for row in rows:
            by_kind.setdefault(row.kind, set()).add(row.digest)
        return Digests(frozenset(by_kind[KEY]), frozenset(by_kind[PHONE]),
                       frozenset(by_kind[EMAIL]))

    def reopen_files(self, tenant: str) -> None:
        """Look through the kept files again (a re-read of an erased customer was kept)."""
        with self._engine.begin() as conn:
            conn.execute(update(erasures).where(erasures.c.tenant == tenant)
                         .values(files_due_at=utcnow()))

    def files_pending(self, tenant: str) -> datetime | None:
        """Since when an erasure waits to be looked for in the kept files (None: none)."""
        with self._engine.connect() as conn:
            due: datetime | None = conn.execute(select(func.max(erasures.c.files_due_at))
                                                .where(erasures.c.tenant == tenant)).scalar()
        return due

    def mark_files_scrubbed(self, tenant: str, started: datetime) -> None:
        """The kept files were looked through with every digest recorded before
        ``started``: what was erased (or reopened) since waits for the next look."""
        with self._engine.begin() as conn:
            conn.execute(update(erasures).where(
                erasures.c.tenant == tenant, erasures.c.files_due_at <= started)
                .values(files_due_at=None, files_scrubbed_at=utcnow()))

    # -- the purge ----------------------------------------------------------------
    def erase(self, tenant: str, source: str, people: Sequence[ErasedPerson], *,
              mentions: Mentions | None = None) -> list[Purged]:
        """Record the erasure of each person (and of every other customer key with the
        same phone: one Sticky customer) and purge what the state DB holds about them,
        in one transaction: the profile, the identities (each Sticky id becomes a
        needs-attention item "erase in Sticky"), ledger payloads (emptied; keys and
        subjects re-keyed to the digest), wallet passes, loyalty facts, the bodies of
        Sticky webhooks naming them, and the record
        issues that are theirs or that ``mentions`` finds them in (asked of each issue's
        raw row and record with the digests of everyone erased here).
        """
        now = utcnow()
        results: list[Purged] = []
        self.salt()  # made (in its own transaction) before the purge's transaction opens
        with self._engine.begin() as conn:
            phones: set[str] = set()
            emails: set[str] = set()
            keys: set[str] = set()
            hints: set[str] = set()
            todo = list(people)
            while todo:
                person = todo.pop(0)
                if person.customer_key in keys:
                    continue
                purged, person_phones, person_emails = self._erase_one(
                    conn, tenant, source, person, now)
                results.append(purged)
                keys.add(person.customer_key)
                phones |= {self.digest(PHONE, p) for p in person_phones}
                emails |= {self.digest(EMAIL, e) for e in person_emails}
                hints |= _hints(person.customer_key, person_phones, person_emails)
                # Sticky keys customers by phone: another key of the connector with the
                # same phone (the person read from another source) is the same Sticky
                # customer, and is erased with them.
                todo += [ErasedPerson(other, f"same phone, {person.why}")
                         for other in conn.execute(
                    select(profiles.c.customer_key).where(
                        profiles.c.tenant == tenant,
                        profiles.c.phone.in_(sorted(person_phones)))).scalars()
                    if other not in keys]
            digests = Digests(frozenset(self.digest(KEY, k) for k in keys),
                              frozenset(phones), frozenset(emails))
            removed = self._scrub_issues(conn, tenant, keys, digests, mentions, hints)
            for purged in results:
                purged.issues = removed.get(purged.customer_key, 0)
        return results

    def _erase_one(self, conn: Connection, tenant: str, source: str, person: ErasedPerson,
                   now: datetime) -> tuple[Purged, set[str], set[str]]:
        customer_key = person.customer_key
        key_digest = self.digest(KEY, customer_key)
        purged = Purged(customer_key)
        profile = conn.execute(select(profiles.c.phone, profiles.c.email).where(
            profiles.c.tenant == tenant, profiles.c.customer_key == customer_key)).first()
        phones = {p for p in person.phones if p}
        emails = {e.lower() for e in person.emails if e}
        if profile is not None:
            phones.add(profile.phone)
            if profile.email:
                emails.add(profile.email.lower())
        rows = [{"tenant": tenant, "kind": KEY, "digest": key_digest}]
        rows += [{"tenant": tenant, "kind": PHONE, "digest": self.digest(PHONE, p)}
                 for p in sorted(phones)]
        rows += [{"tenant": tenant, "kind": EMAIL, "digest": self.digest(EMAIL, e)}
                 for e in sorted(emails)]
        upsert(conn, erasures, [{**r, "source": source, "erased_at": now,
                                 "files_due_at": now, "files_scrubbed_at": None}
                                for r in rows],
               keys=("tenant", "kind", "digest"),
               update=("source", "erased_at", "files_due_at"))
        purged.sticky_ids = [(r.workspace, r.remote_id) for r in conn.execute(
            select(identities.c.workspace, identities.c.remote_id).where(
                identities.c.tenant == tenant,
                identities.c.customer_key == customer_key)).all()]
        purged.profiles = conn.execute(delete(profiles).where(
            profiles.c.tenant == tenant,
            profiles.c.customer_key == customer_key)).rowcount or 0
        conn.execute(delete(identities).where(identities.c.tenant == tenant,
                                              identities.c.customer_key == customer_key))
        purged.ledger_rows = self._scrub_ledger(conn, tenant, customer_key,
                                                ERASED_PREFIX + key_digest)
        remote_ids = [remote for _, remote in purged.sticky_ids]
        purged.passes = conn.execute(delete(passes).where(
            passes.c.tenant == tenant, or_(passes.c.customer_key == customer_key,
                                           passes.c.customer_id.in_(remote_ids))
        )).rowcount or 0
        for workspace, remote in purged.sticky_ids:
            conn.execute(delete(loyalty).where(loyalty.c.workspace == workspace,
                                               loyalty.c.customer_id == remote))
            # Sticky's webhooks about them (their body's shape is not documented: any
            # body naming their Sticky id loses its content; the event row stays, so a
            # redelivery is still recognised)
            conn.execute(update(webhook_events).where(
                webhook_events.c.workspace == workspace,
                cast(webhook_events.c.body, Text).contains(remote, autoescape=True))
                .values(body={"erased": True}, detail=None))
            self.owe_sticky_erasure(tenant, workspace, remote, person.why, conn)
        purged.known_before = bool(profile is not None or purged.sticky_ids
                                   or purged.ledger_rows)
        return purged, phones, emails

    @staticmethod
    def owe_sticky_erasure(tenant: str, workspace: str, remote_id: str, why: str,
                           conn: Connection) -> None:
        """A needs-attention item: this Sticky customer must be erased by hand (the
        documented Sticky API has no delete)."""
        now = utcnow()
        upsert(conn, attention, [{
            "tenant": tenant, "scope": ATTENTION_SCOPE, "kind": ATTENTION_KIND,
            "key": f"{workspace}/{remote_id}",
            "message": f"erase in Sticky: {remote_id} (workspace {workspace}; {why})",
            "first_seen_at": now, "last_seen_at": now, "resolved_at": None}],
            keys=("tenant", "scope", "kind", "key"),
            update=("message", "last_seen_at", "resolved_at"))

    @staticmethod
    def _scrub_ledger(conn: Connection, tenant: str, customer_key: str,
                      erased_key: str) -> int:
        """The customer's own rows lose everything derived from them (payload, its hash,
        the idempotency key, Sticky's id and error text); their events keep amounts and
        SKUs (nothing personal) under the erased subject, without the Sticky id."""
        now = utcnow()
        # what was never delivered never will be: no longer pending
        status = case((ledger.c.status == LedgerStatus.SENT, LedgerStatus.SENT),
                      else_=LedgerStatus.REJECTED)
        changed = conn.execute(update(ledger).where(
            ledger.c.tenant == tenant, ledger.c.kind == "customer",
            ledger.c.key == customer_key).values(
                key=erased_key, subject=erased_key, payload={"erased": True},
                payload_hash="erased", idempotency_key=erased_key[:80], remote_id=None,
                status=status, last_error=ERASED_ERROR, updated_at=now)).rowcount or 0
        events = conn.execute(select(ledger.c.id, ledger.c.payload, ledger.c.status).where(
            ledger.c.tenant == tenant, ledger.c.subject == customer_key)).all()
        for row in events:
            payload = {k: v for k, v in (row.payload or {}).items() if k != "customer_id"}
            conn.execute(update(ledger).where(ledger.c.id == row.id).values(
                subject=erased_key, payload=payload, updated_at=now,
                status=(LedgerStatus.SENT if row.status == LedgerStatus.SENT
                        else LedgerStatus.REJECTED),
                last_error=None if row.status == LedgerStatus.SENT else ERASED_ERROR))
        return changed + len(events)

    @staticmethod
    def _scrub_issues(conn: Connection, tenant: str, keys: set[str], digests: Digests,
                      mentions: Mentions | None, hints: set[str]) -> dict[str, int]:
        """Delete the record issues of the erased customers (their own rows, and any
        whose raw row or record ``mentions`` them); counts by customer key (a row that
        only mentions them is counted under ``""``).

        Only their own rows and those whose stored text holds one of ``hints`` (a
        phone's last four digits, an e-mail's local part, a source id) are read and
        asked: a phone written in any usual way keeps its last four digits together, so
        the filter spares reading every issue without losing a copy."""
        removed: dict[str, int] = {}
        doomed = []
        query = select(
            record_issues.c.id, record_issues.c.source, record_issues.c.record_kind,
            record_issues.c.record_id, record_issues.c.raw, record_issues.c.record
        ).where(record_issues.c.tenant == tenant)
        if hints and all(h.isascii() for h in hints):  # JSON text escapes non-ASCII
            texts = (cast(record_issues.c.raw, Text), cast(record_issues.c.record, Text))
            ids = sorted({k.rpartition(":")[2] for k in keys})
            query = query.where(or_(record_issues.c.record_id.in_(ids), *(
                t.ilike(f"%{_escaped(h)}%", escape="\\") for t in texts
                for h in sorted(hints))))
        for row in conn.execute(query):
            own = (f"{row.source}:{row.record_id}" if row.record_kind == "customer"
                   and row.record_id else None)
            if own in keys:
                removed[own] = removed.get(own, 0) + 1
                doomed.append(row.id)
            elif mentions is not None and any(mentions(doc, digests)
                                              for doc in (row.raw, row.record) if doc):
                removed[""] = removed.get("", 0) + 1
                doomed.append(row.id)
        for start in range(0, len(doomed), 500):
            conn.execute(delete(record_issues).where(
                record_issues.c.id.in_(doomed[start:start + 500])))
        return removed

    def settle_storage(self) -> None:
        """Let the purged bytes leave the disk where the engine allows it: on SQLite
        (``secure_delete`` zeroes freed space) the WAL is checkpointed and truncated, so
        no older copy of a purged page stays in it; on PostgreSQL the touched tables are
        vacuumed (dead row versions are then free space, overwritten later)."""
        if self._engine.dialect.name == "sqlite":
            raw = self._engine.raw_connection()
            try:
                raw.driver_connection.execute(  # type: ignore[union-attr]
                    "PRAGMA wal_checkpoint(TRUNCATE)")
            finally:
                raw.close()
            return
        with self._engine.connect().execution_options(
                isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM profiles, identities, ledger, record_issues, passes"))


def _hints(customer_key: str, phones: Iterable[str], emails: Iterable[str]) -> set[str]:
    """Substrings any stored copy of the person must contain, however it was written."""
    found = {customer_key.rpartition(":")[2]} if ":" in customer_key else set()
    found |= {p[-4:] for p in phones if len(p) >= 4}
    found |= {e.partition("@")[0] for e in emails if e.partition("@")[0]}
    return {h for h in found if h}


def _escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
