"""Leases in the state DB (state/leases.py): one holder per (tenant, source) at a time,
renewed while working; a holder that is gone (its liveness lock can be taken) is replaced
at once, one that stopped renewing once its lease expired. A holder that lost its lease
stops before its next request and its writes are refused (fencing)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import time
import uuid

import structlog
from sqlalchemy.exc import SQLAlchemyError

from connector.errors import LeaseLost
from connector.sync.state_thread import off_loop, off_loop_shielded
from state import StateStore
from state.leases import Lease

log = structlog.get_logger("connector.run")

RENEW_EVERY = 5.0
"""Renewed every quarter of the TTL, or this often if sooner: a renewal also checks the
liveness lock, whose loss (a PostgreSQL session cut) lets another process in at once."""
VALID_SHARE = 0.75
"""A holder trusts its lease for this share of the TTL after the renewal that began
last; past it (the process was paused, or the DB did not answer) it renews before its
next request, and stops if that fails."""


def holder_id() -> str:
    """``host:pid:random``: the host (a pod's name on Kubernetes) and PID are for people
    reading ``status``; no decision rests on them."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class HeldLease:
    """A lease this pass works under: renewed in the background, checked before every
    request (:meth:`ensure`), and handed to the writes it fences."""

    def __init__(self, store: StateStore, lease: Lease, ttl: float) -> None:
        self.store = store
        self.lease = lease
        self.ttl = ttl
        self.valid_until = time.monotonic() + ttl * VALID_SHARE
        self.lost: str | None = None
        self._answered_at = time.monotonic()
        """When the last renewal got its answer (monotonic)."""
        self._renewing: asyncio.Lock | None = None

    @property
    def name(self) -> str:
        return f"{self.lease.tenant}/{self.lease.source}"

    async def renew(self) -> bool:
        """Renew now; ``False`` (and :attr:`lost` said) once another holder has it."""
        if self.lost is not None:
            return False
        if self._renewing is None:
            self._renewing = asyncio.Lock()
        asked = time.monotonic()
        async with self._renewing:
            if self._answered_at >= asked:  # answered for another caller while this waited
                return self.lost is None and time.monotonic() < self.valid_until
            try:
                return await self._renew_now()
            finally:
                self._answered_at = time.monotonic()

    async def _renew_now(self) -> bool:
        started = time.monotonic()
        try:  # off the event loop: a locked DB must not stall the daemon's servers
            renewed = await off_loop(self.store.leases.renew, self.lease, self.ttl)
        except SQLAlchemyError as exc:
            log.warning("lease not renewed: the state DB failed", lease=self.name,
                        error=str(self.store.failure(exc)))
            # its row is out of reach; its liveness lock must still be held (a
            # PostgreSQL session cut with the network lets another process in)
            if not await off_loop(self.lease.alive):
                self.lost = (f"{self.name}: this run's hold on the source ended with "
                             "its database session; it stops here")
                log.error("lease lost", lease=self.name,
                          generation=self.lease.generation)
                return False
            return time.monotonic() < self.valid_until
        if not renewed:
            self.lost = (f"{self.name}: another process took this source over (this "
                         "run was paused or cut off past its lease); it stops here")
            log.error("lease lost", lease=self.name, generation=self.lease.generation)
            return False
        self.valid_until = started + self.ttl * VALID_SHARE
        return True

    async def ensure(self) -> None:
        """Before a request: raise :class:`LeaseLost` unless the lease is surely held."""
        if self.lost is None and time.monotonic() < self.valid_until:
            return
        if not await self.renew():
            raise LeaseLost(self.lost or f"{self.name}: the lease could not be renewed in "
                            "time; this run stops (the next one resumes)")

    async def keep(self) -> None:
        """Renew every quarter of the TTL (at most ``RENEW_EVERY``) until cancelled or
        lost; returns when lost."""
        while self.lost is None:
            await asyncio.sleep(min(self.ttl / 4, RENEW_EVERY))
            await self.renew()


async def claim(store: StateStore, tenant: str, source: str, holder: str,
                ttl: float) -> Lease | None:
    """``Leases.acquire`` off the event loop; cancelled meanwhile, a lease it got is
    released, not leaked (its lock would keep the source busy)."""
    attempt = asyncio.ensure_future(off_loop(store.leases.acquire, tenant, source, holder,
                                             ttl))
    try:
        return await asyncio.shield(attempt)
    except asyncio.CancelledError:
        lease = await attempt
        if lease is not None:
            await release(store, lease)
        raise


async def release(store: StateStore, lease: Lease) -> None:
    """Release the lease off the event loop; completed even when the caller is
    cancelled meanwhile (then it stops waiting for it)."""
    await off_loop_shielded(release_lease, store, lease)


def release_lease(store: StateStore, lease: Lease) -> None:
    """Release the lease; a state DB that cannot take the release leaves the row to its
    expiry, but the liveness lock goes, so the next pass takes it over at once."""
    with contextlib.suppress(SQLAlchemyError):
        store.leases.release(lease)
    lease.let_go()


async def busy_message(store: StateStore, tenant: str, source: str) -> str:
    """What to say about the holder of a busy lease (read off the event loop)."""
    return await off_loop(_busy_message, store, tenant, source)


def _busy_message(store: StateStore, tenant: str, source: str) -> str:
    lease = store.leases.holder(tenant, source)
    return f"another run holds {tenant}/{source}" + (
        f" ({lease.holder}, until {lease.expires_at:%H:%M:%S}Z)" if lease else "")
