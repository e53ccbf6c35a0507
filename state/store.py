"""The state DB as one object: open it once at the composition root and pass it down."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import structlog
from alembic.util.exc import CommandError
from sqlalchemy import Engine, select
from sqlalchemy.exc import SQLAlchemyError

from connector.errors import StateUnavailable
from state._sql import upsert
from state.attention import Attention
from state.checkpointer import WalCheckpointer
from state.cursors import Cursors
from state.customers import Customers
from state.db import DEFAULT_BUSY_TIMEOUT, create_state_engine, migrate, sqlite_file
from state.erasures import Erasures
from state.failures import describe, shown, wait_while_locked
from state.issues import RecordIssue, RecordIssues, RecordRef
from state.leases import Lease, Leases
from state.ledger import Ledger, StagedEntry
from state.locations import Locations
from state.organizations import Organizations
from state.passes import Passes
from state.runs import Runs
from state.schema import state_meta
from state.senders import Senders
from state.unit_of_work import UnitOfWork
from state.webhooks import InboxEvent, Webhooks


@dataclass(frozen=True, slots=True)
class Delivery:
    """A payload the target accepted: its ledger row, the remote id and the attempts it
    took; for a customer also its (customer key, workspace) for the identity map."""

    entry_id: int
    remote_id: str
    attempts: int
    identity: tuple[str, str] | None = None
    wants_pass: bool = False
    """The customer was created by this request and its tenant mints wallet passes."""
    key: str | None = None
    """The idempotency key it was sent under, for content that is sent again when it
    changes (a customer): a row re-staged meanwhile with other content stays pending
    for that content's request. ``None``: settle the row whatever it holds now."""


WRITTEN_BY = "written_by"
try:
    _VERSION = f"sticky-sync {version('sticky-connector')}"
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    _VERSION = "sticky-sync (source tree)"

log = structlog.get_logger("state")


def _warn(message: str) -> None:
    log.warning("state DB locked", detail=message)


def _written_by(engine: Engine) -> str | None:
    try:
        with engine.connect() as conn:
            value = conn.execute(select(state_meta.c.value).where(
                state_meta.c.name == WRITTEN_BY)).scalar()
    except SQLAlchemyError:
        return None
    return str(value) if value else None


class StateStore:
    last_url: str | None = None
    """The URL of the state DB this process opened last (to name it in an error met
    outside any store)."""
    last_busy_timeout: float = DEFAULT_BUSY_TIMEOUT

    def __init__(self, engine: Engine, *, url: str | None = None,
                 busy_timeout: float = DEFAULT_BUSY_TIMEOUT) -> None:
        self.engine = engine
        self.url = url or engine.url.render_as_string(hide_password=True)
        self.busy_timeout = busy_timeout
        self._checkpointer = (WalCheckpointer(engine) if engine.dialect.name == "sqlite"
                              and engine.url.database not in (None, "", ":memory:") else None)
        self.cursors = Cursors(engine)
        self.ledger = Ledger(engine)
        self.customers = Customers(engine)
        self.issues = RecordIssues(engine)
        self.runs = Runs(engine)
        database = engine.url.database if engine.dialect.name == "sqlite" else None
        self.leases = Leases(engine, Path(database).expanduser() if database and (
            database != ":memory:") else None)
        self.locations = Locations(engine)
        self.organizations = Organizations(engine)
        self.attention = Attention(engine)
        self.passes = Passes(engine)
        self.webhooks = Webhooks(engine)
        self.erasures = Erasures(engine)
        self.senders = Senders(engine)

    @classmethod
    def open(cls, url: str, *, busy_timeout: float = DEFAULT_BUSY_TIMEOUT,
             on_wait: Callable[[str], None] | None = None) -> StateStore:
        """Open (and migrate) the state DB; :class:`StateUnavailable` names it and says
        what is wrong when it cannot be (a configuration mistake stays a
        :class:`ConfigurationError`). A SQLite file another process holds locked is
        waited for up to ``busy_timeout`` seconds, said once through ``on_wait``."""
        StateStore.last_url, StateStore.last_busy_timeout = url, busy_timeout
        path = sqlite_file(url)
        if path is not None:
            wait_while_locked(path, busy_timeout, on_wait or _warn)
        engine = create_state_engine(url, busy_timeout)
        try:
            migrate(engine)
        except CommandError as exc:
            writer = _written_by(engine)
            engine.dispose()
            raise StateUnavailable(
                f"state DB {shown(url)} was written by a newer sticky-sync"
                f"{f' ({writer})' if writer else ''} than this one ({_VERSION}): its "
                f"schema is unknown here ({exc}); upgrade sticky-sync; nothing was read "
                "or sent") from exc
        except SQLAlchemyError as exc:
            engine.dispose()
            raise describe(exc, url, busy_timeout) from exc
        store = cls(engine, url=url, busy_timeout=busy_timeout)
        try:
            store.note_writer()
        except SQLAlchemyError as exc:
            store.close()
            raise describe(exc, url, busy_timeout) from exc
        return store

    def note_writer(self) -> None:
        """Record which sticky-sync last opened this DB (named when an older one cannot
        read what a newer one wrote)."""
        with self.engine.begin() as conn:
            current = conn.execute(select(state_meta.c.value).where(
                state_meta.c.name == WRITTEN_BY)).scalar()
            if current != _VERSION:
                upsert(conn, state_meta, [{"name": WRITTEN_BY, "value": _VERSION}],
                       keys=("name",), update=("value",))

    def failure(self, exc: BaseException) -> StateUnavailable:
        """``exc`` (a database error met while using this DB) as one clear line."""
        return describe(exc, self.url, self.busy_timeout)

    @contextlib.contextmanager
    def failures_named(self) -> Iterator[None]:
        """Database errors raised in the block become :class:`StateUnavailable`."""
        try:
            yield
        except SQLAlchemyError as exc:
            raise self.failure(exc) from exc

    @contextlib.contextmanager
    def unit_of_work(self, *, lease: Lease | None = None) -> Iterator[UnitOfWork]:
        """One transaction (``state/unit_of_work.py``): what is written through the unit
        commits when the block ends, or not at all when it raises; with ``lease``, first
        refused with :class:`LeaseLost` once the lease is no longer the holder's."""
        with self.engine.begin() as conn:
            Leases.fence(conn, lease)
            yield UnitOfWork(self, conn)

    def commit_batch(self, tenant: str, source: str, stream: str,
                     position: dict[str, Any] | None, issues: Sequence[RecordIssue],
                     delivered: Sequence[RecordRef], run_id: int | None, *,
                     lease: Lease | None = None) -> None:
        """Checkpoint one settled batch: its record issues and its cursor, atomically
        (``position`` ``None``: a replay of quarantined records, no cursor moves); refused
        with :class:`LeaseLost` once ``lease`` is no longer the source's."""
        with self.unit_of_work(lease=lease) as uow:
            uow.record_issues(tenant, source, issues, run_id)
            uow.resolve_issues(tenant, source, stream, delivered)
            if position is not None:
                uow.put_cursor(tenant, source, stream, position)

    def settle_delivered(self, tenant: str, items: Sequence[Delivery], *,
                         lease: Lease | None = None) -> None:
        """Settle several accepted payloads (and their identities) in one transaction
        (refused with :class:`LeaseLost` once ``lease`` is no longer the source's)."""
        if not items:
            return
        check = any(d.identity for d in items) and self.erasures.any(tenant)
        if check:
            self.erasures.salt()  # read before the transaction below opens
        with self.unit_of_work(lease=lease) as uow:
            # A customer erased while its create was in flight (a later batch, planned
            # ahead, erased it) keeps no identity and gets no pass: Sticky holds it, so
            # it is listed for erasure there instead.
            erased = uow.erased_keys(
                tenant, {d.identity[0] for d in items if d.identity}) if check else set()
            uow.settle_sent([
                (d.entry_id, None if d.identity and d.identity[0] in erased else d.remote_id,
                 d.attempts, d.key) for d in items])
            known: list[tuple[str, str, str]] = []
            for d in items:
                if d.identity is None:
                    continue
                if d.identity[0] in erased:
                    uow.owe_sticky_erasure(tenant, d.identity[1], d.remote_id,
                                           "erased at the source")
                    continue
                known.append((d.identity[0], d.identity[1], d.remote_id))
            if known:
                uow.save_identities(tenant, known)
            wanted = [(d.identity[1], d.remote_id, d.identity[0]) for d in items
                      if d.wants_pass and d.identity is not None
                      and d.identity[0] not in erased]
            if wanted:
                uow.want_passes(tenant, wanted, "created")

    # -- webhook events: each applied with its consequences in one transaction ---------
    def apply_tier_change(self, event: InboxEvent, customer_id: str, tier: str,
                          previous_tier: str | None, changed_at: datetime,
                          points_balance: int | None,
                          write_backs: Sequence[tuple[str, str, StagedEntry]]) -> bool:
        """Record the tier unless a later change is known; when recorded, owe each
        ``(tenant, target, entry)`` write-back. True when applied."""
        with self.unit_of_work() as uow:
            applied = uow.set_tier(event.workspace, customer_id, tier, previous_tier,
                                   changed_at, points_balance)
            if applied:
                for tenant, target, entry in write_backs:
                    uow.owe(tenant, target, entry)
            uow.finish_webhook(event.id, "applied" if applied else "ignored",
                               None if applied else "a later tier change is recorded")
        return applied

    def apply_pass_install(self, event: InboxEvent, customer_id: str, pass_id: str,
                           installed_at: datetime, platform: str | None) -> bool:
        with self.unit_of_work() as uow:
            changed = uow.mark_pass_installed(event.workspace, customer_id, pass_id,
                                              installed_at, platform)
            uow.finish_webhook(event.id, "applied" if changed else "ignored",
                               None if changed else f"pass {pass_id} was not minted by "
                               "this connector (or is not the customer's current one)")
        return changed > 0

    def apply_journey(self, event: InboxEvent, customer_id: str, journey: str,
                      entered_at: datetime) -> bool:
        with self.unit_of_work() as uow:
            applied = uow.set_journey(event.workspace, customer_id, journey, entered_at)
            uow.finish_webhook(event.id, "applied" if applied else "ignored",
                               None if applied else "a later journey is recorded")
        return applied

    def finish_webhook(self, event: InboxEvent, outcome: str, detail: str | None) -> None:
        with self.unit_of_work() as uow:
            uow.finish_webhook(event.id, outcome, detail)

    def close(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.close()
            self._checkpointer = None
        self.engine.dispose()
