"""Group commit of delivered payloads.

Committing each response on its own costs a transaction (and a hop to the state thread)
per request. Instead, responses that arrive within ``max_delay`` of each other are
settled in one transaction. Each sender still *awaits* the commit of its group before it
frees its in-flight slot, so after a crash the unsettled requests are still at most the
ones in flight.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from connector.sync.state_thread import StateThread
from state import StateStore
from state.leases import Lease
from state.store import Delivery


@dataclass(slots=True)
class _Group:
    items: list[Delivery] = field(default_factory=list)
    waiters: list[asyncio.Future[None]] = field(default_factory=list)
    """One per caller: a caller cancelled while it waits cancels only its own (a shield
    of one shared future per caller cost a callback removal each: O(n²) a group)."""
    handle: asyncio.TimerHandle | None = None


class SettleQueue:
    def __init__(self, store: StateStore, db: StateThread, tenant: str,
                 lease: Lease | None = None, max_delay: float = 0.05,
                 max_items: int = 64) -> None:
        self.store = store
        self.lease = lease
        """Fences every settle: refused once another process holds the source."""
        self.db = db
        self.tenant = tenant
        self.max_delay = max_delay
        self.max_items = max_items
        self._open: _Group | None = None
        self._flushing: set[asyncio.Task[None]] = set()

    async def delivered(self, item: Delivery) -> None:
        loop = asyncio.get_running_loop()
        group = self._open
        if group is None:
            group = self._open = _Group()
            group.handle = loop.call_later(self.max_delay, self._close, group)
        group.items.append(item)
        waiter: asyncio.Future[None] = loop.create_future()
        group.waiters.append(waiter)
        if len(group.items) >= self.max_items:
            self._close(group)
        await waiter

    def _close(self, group: _Group) -> None:
        if self._open is not group:
            return
        self._open = None
        if group.handle is not None:
            group.handle.cancel()
        task = asyncio.ensure_future(self._commit(group))
        self._flushing.add(task)
        task.add_done_callback(self._flushing.discard)

    async def _commit(self, group: _Group) -> None:
        try:
            await self.db.call(self.store.settle_delivered, self.tenant, group.items,
                               lease=self.lease)
        except BaseException as exc:  # noqa: BLE001 - every waiter must learn of it
            for waiter in group.waiters:
                if not waiter.done():
                    waiter.set_exception(exc)
            return
        for waiter in group.waiters:
            if not waiter.done():
                waiter.set_result(None)
