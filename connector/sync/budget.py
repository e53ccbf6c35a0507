"""One rate budget per Sticky workspace across processes (docs/architecture.md "Rate
limiting across processes").

Sticky's 100 req/s cap is per workspace, whoever sends. Every process that sends to a
workspace registers in the state DB (``senders``), renews every ``BEAT`` seconds, and
paces at its part of the cap (``WorkspacePace.shared``: N senders x (rate + 1) ≤ cap - 1).

- **Joining**: a process that was not registered registers, and when others are there it
  waits ``JOIN_DELAY`` before its first request. That is longer than ``VALID``, the time a
  sender trusts the count it last read: by then each other sender has either read the new
  count and slowed down, or stopped sending. The window never holds both the old rates
  and the new one.
- **Leaving**: a workspace idle for ``IDLE`` seconds is left (its row deleted); a process
  that dies is forgotten when its row expires (``TTL``). The others speed up at their next
  beat, after the leaver stopped.
- **Trusting the share**: a process sends only within ``VALID`` seconds of its last good
  beat (less than ``TTL``: the others may count it out only after it stopped), checked
  before and again after a request waited for its turn. Paused past that, it joins again.
  A state DB that does not answer within its busy timeout stops the sending
  (:class:`StateUnavailable`, as every other state DB failure).
"""

from __future__ import annotations

import asyncio
import contextlib
import time

import structlog
from sqlalchemy.exc import SQLAlchemyError

from connector.delivery.limits import WorkspaceLimiters
from connector.sync.state_thread import off_loop
from state import StateStore

log = structlog.get_logger("connector.delivery")

BEAT = 1.0
VALID = 2.0
JOIN_DELAY = VALID + 0.25
TTL = 3.0
IDLE = 3.0


class SharedBudget:
    """This process's registrations, kept by one background task."""

    def __init__(self, store: StateStore, sender: str, limiters: WorkspaceLimiters) -> None:
        self.store = store
        self.sender = sender
        self.limiters = limiters
        self._used: dict[str, float] = {}
        self._valid_until: dict[str, float] = {}
        self._since: dict[str, float] = {}
        """When this process's registration last became live, per workspace."""
        self._joining: dict[str, asyncio.Lock] = {}
        self._task: asyncio.Task[None] | None = None
        self._closed = False

    async def admit(self, workspace: str) -> None:
        if self.valid(workspace):
            return
        self._used[workspace] = time.monotonic()  # joining counts as use
        lock = self._joining.setdefault(workspace, asyncio.Lock())
        async with lock:
            while not self.valid(workspace):
                await self._join(workspace)
        if self._task is None and not self._closed:
            self._task = asyncio.create_task(self._keep(), name="rate budget")

    def valid(self, workspace: str) -> bool:
        """Whether this process may send to ``workspace`` now at its current share."""
        now = time.monotonic()
        if now >= self._valid_until.get(workspace, 0.0):
            return False
        self._used[workspace] = now
        return True

    async def _join(self, workspace: str) -> None:
        started = time.monotonic()
        try:
            found = await off_loop(self.store.senders.beat, self.sender, [workspace], TTL)
        except SQLAlchemyError as exc:  # waited busy_timeout already: no share, no send
            raise self.store.failure(exc) from exc
        count, live = found[workspace]
        if not live:
            self._since[workspace] = started
        wait = self._since.get(workspace, 0.0) + JOIN_DELAY - time.monotonic()
        if count > 1 and wait > 0:
            # the others slow down at their next beat; send only after it
            log.info("sharing a workspace's rate with other processes",
                     workspace=workspace, senders=count)
            await asyncio.sleep(wait)
            await self._join(workspace)  # counted again, no more waiting
            return
        self.limiters.share(workspace, count)
        self._valid_until[workspace] = started + VALID

    async def _keep(self) -> None:
        while not self._closed:
            await asyncio.sleep(BEAT)
            now = time.monotonic()
            idle = [w for w, at in self._used.items() if now - at > IDLE]
            active = [w for w in self._used if w not in idle]
            try:
                if idle:
                    for workspace in idle:
                        self._valid_until.pop(workspace, None)
                        self._used.pop(workspace, None)
                        self._since.pop(workspace, None)
                    await off_loop(self.store.senders.leave, self.sender, idle)
                if not active:
                    continue
                started = time.monotonic()
                found = await off_loop(self.store.senders.beat, self.sender, active, TTL)
            except SQLAlchemyError as exc:
                log.warning("rate budget not renewed: the state DB failed",
                            error=str(self.store.failure(exc)))
                continue
            for workspace, (count, live) in found.items():
                if not live:  # expired meanwhile (a pause): joined again, admit() waits
                    self._since[workspace] = started
                    continue
                self.limiters.share(workspace, count)
                if count > 1 and started < self._since.get(workspace, 0.0) + JOIN_DELAY:
                    continue  # still joining: admit() lets requests out after the delay
                self._valid_until[workspace] = started + VALID

    async def aclose(self) -> None:
        self._closed = True
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        with contextlib.suppress(SQLAlchemyError):
            await off_loop(self.store.senders.leave, self.sender, list(self._used))
