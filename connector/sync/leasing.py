"""Leases in the state DB: one holder per (tenant, source) at a time, renewed while
working, expiring when the holder dies (or taken over at once when it provably did)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import uuid

import structlog
from sqlalchemy.exc import SQLAlchemyError

from state import StateStore

log = structlog.get_logger("connector.run")

LEASE_TTL_SECONDS = 120.0
"""Default; ``[state] lease_ttl_seconds`` sets it. Renewed every quarter of the TTL."""


_WORKING: set[tuple[str, str, str]] = set()
"""(tenant, source, holder) of the leases this process works under right now."""


def holder_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def holder_is_dead(holder: str, tenant: str, source: str) -> bool:
    """True when ``holder`` names a process on this host that no longer exists (a run
    killed with SIGKILL leaves its lease behind; no need to wait for the TTL), or this
    very process without a pass working under it (a pass stopped by a failing state DB
    could not release it; the daemon's next pass must not wait for the TTL)."""
    host, _, rest = holder.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    if int(pid_text) == os.getpid():
        return (tenant, source, holder) not in _WORKING
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def claim_lease(store: StateStore, tenant: str, source: str, holder: str,
                ttl: float = LEASE_TTL_SECONDS) -> bool:
    if store.leases.acquire(tenant, source, holder, ttl):
        _WORKING.add((tenant, source, holder))
        return True
    current = store.leases.holder(tenant, source)
    if current is not None and holder_is_dead(current.holder, tenant, source):
        log.warning("taking over a lease its holder left behind", tenant=tenant,
                    source=source, stale_holder=current.holder)
        if store.leases.take_over(tenant, source, current.holder, holder, ttl):
            _WORKING.add((tenant, source, holder))
            return True
    return False


def release_lease(store: StateStore, tenant: str, source: str, holder: str) -> None:
    """Release the lease; a state DB that cannot take the release leaves the row to expire
    (or to be taken over at once by this process's next pass, see :func:`holder_is_dead`)."""
    _WORKING.discard((tenant, source, holder))
    with contextlib.suppress(SQLAlchemyError):
        store.leases.release(tenant, source, holder)


def busy_message(store: StateStore, tenant: str, source: str) -> str:
    lease = store.leases.holder(tenant, source)
    return f"another run holds {tenant}/{source}" + (
        f" ({lease.holder}, until {lease.expires_at:%H:%M:%S}Z)" if lease else "")


async def keep_lease(store: StateStore, tenant: str, source: str, holder: str,
                     ttl: float = LEASE_TTL_SECONDS) -> None:
    while True:
        await asyncio.sleep(ttl / 4)
        try:  # off the event loop: a locked DB must not stall the daemon's servers
            renewed = await asyncio.to_thread(store.leases.renew, tenant, source, holder, ttl)
        except SQLAlchemyError as exc:
            log.warning("lease not renewed: the state DB failed", tenant=tenant,
                        source=source, error=str(store.failure(exc)))
            continue
        if not renewed:
            log.error("lease lost: another process took it over", tenant=tenant,
                      source=source)
