"""Leases in the state DB: one holder per (tenant, source) at a time, renewed while
working, expiring when the holder dies (or taken over at once when it provably did)."""

from __future__ import annotations

import asyncio
import os
import socket
import uuid

import structlog
from sqlalchemy.exc import SQLAlchemyError

from state import StateStore

log = structlog.get_logger("connector.run")

LEASE_TTL_SECONDS = 120.0
"""Default; ``[state] lease_ttl_seconds`` sets it. Renewed every quarter of the TTL."""


def holder_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def holder_is_dead(holder: str) -> bool:
    """True when ``holder`` names a process on this host that no longer exists (a run
    killed with SIGKILL leaves its lease behind; no need to wait for the TTL)."""
    host, _, rest = holder.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
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
        return True
    current = store.leases.holder(tenant, source)
    if current is not None and holder_is_dead(current.holder):
        log.warning("taking over the lease of a dead process", tenant=tenant, source=source,
                    stale_holder=current.holder)
        return store.leases.take_over(tenant, source, current.holder, holder, ttl)
    return False


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
