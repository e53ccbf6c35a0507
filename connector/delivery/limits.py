"""Per-workspace request pacing for a server that counts a strict rolling 1-second window.

Two parts per workspace, acquired before every attempt (retries included):

- a **cool-down gate**: after a 429, nothing leaves the workspace until ``Retry-After``;
- an **aiolimiter leaky bucket** spacing requests evenly. ``AsyncLimiter(100, 1)`` would
  let a full bucket of 100 out at once after any idle spell, so a rolling-window server
  sees up to ~199. Any 1-second window holds at most ``burst + rate`` requests, so we
  keep that one below the cap less the headroom (clock skew, requests sent evenly but
  arriving bunched). A larger burst would tolerate a late event loop better, but every
  request it lets out early is one the server may count in the wrong window: measured,
  a catch-up burst of 9 drew 429s at a window cap of 97 (see docs/architecture.md).
"""

from __future__ import annotations

import asyncio
import math
import time
from dataclasses import dataclass
from typing import Protocol

from aiolimiter import AsyncLimiter


@dataclass(frozen=True, slots=True)
class WorkspacePace:
    rate: float
    burst: int
    cap: int = 0
    """The server's cap per second (0: unknown, the pace is not shared)."""

    @classmethod
    def for_cap(cls, cap_per_second: int, headroom: float) -> WorkspacePace:
        """``headroom`` of the cap comes off the sustained rate, and the bucket is sized so
        that ``burst + rate <= cap - 1`` (100/s, 0.03 → rate 97, burst 2: ≤ 99 a window).
        Small caps (a few per second) get a bucket of one: evenly spaced requests."""
        rate = cap_per_second * (1.0 - headroom)
        if cap_per_second < 20:
            return cls(rate=rate, burst=1, cap=cap_per_second)
        burst = max(1, math.floor(cap_per_second - 1 - rate))
        return cls(rate=min(rate, cap_per_second - 1 - burst), burst=burst,
                   cap=cap_per_second)

    def shared(self, senders: int) -> WorkspacePace:
        """This process's part when ``senders`` processes send to one workspace, such that
        ``senders x (rate + burst) <= cap - 1``: any 1-second window holds at most
        ``cap - 1`` of all their requests together. A bucket of two while that costs at
        most a tenth of the rate (two processes: 47.5/s each), else of one: a bucket of one
        loses more to timer granularity than it gives (measured by bench/shared_budget.py:
        90 % of the cap together with one, 92 % with two)."""
        if senders <= 1 or not self.cap:
            return self
        burst = 2 if (self.cap - 1) / senders - 2 >= 0.9 * self.rate / senders else 1
        rate = min(self.rate / senders, (self.cap - 1) / senders - burst)
        return WorkspacePace(rate=max(rate, 0.1), burst=burst, cap=self.cap)


class Budget(Protocol):
    """Shares a workspace's pace with the other processes sending to it
    (connector/sync/budget.py); the limiters only call it."""

    async def admit(self, workspace: str) -> None:
        """Return once this process may send to ``workspace`` at its current share
        (at once, nearly always); calls :meth:`WorkspaceLimiters.share` on changes."""

    def valid(self, workspace: str) -> bool:
        """Whether the share is still this process's (asked again after a request
        waited for its turn: the wait may have outlasted it)."""

    async def aclose(self) -> None:
        """Stop, and tell the others this process no longer sends."""


class CooldownGate:
    """Holds every request of one workspace until a ``Retry-After`` has passed."""

    def __init__(self) -> None:
        self._not_before = 0.0

    def cool_down(self, seconds: float) -> None:
        self._not_before = max(self._not_before, time.monotonic() + max(0.0, seconds))

    async def wait(self) -> None:
        while (delay := self._not_before - time.monotonic()) > 0:
            await asyncio.sleep(delay)


class WorkspaceLimiters:
    """One gate and bucket per workspace, created lazily inside the running loop."""

    def __init__(self, pace: WorkspacePace) -> None:
        self.pace = pace
        self.budget: Budget | None = None
        """Set when other processes may send to the same workspaces."""
        self._buckets: dict[str, AsyncLimiter] = {}
        self._senders: dict[str, int] = {}
        self._gates: dict[str, CooldownGate] = {}

    def gate(self, workspace: str) -> CooldownGate:
        return self._gates.setdefault(workspace, CooldownGate())

    def share(self, workspace: str, senders: int) -> None:
        """``senders`` processes send to ``workspace`` now: pace at this one's part (a new
        bucket; requests waiting on the old one queue again on it)."""
        if self._senders.get(workspace, 1) != senders:
            self._senders[workspace] = senders
            self._buckets.pop(workspace, None)

    def _bucket(self, workspace: str) -> AsyncLimiter:
        bucket = self._buckets.get(workspace)
        if bucket is None:
            pace = self.pace.shared(self._senders.get(workspace, 1))
            bucket = self._buckets[workspace] = AsyncLimiter(pace.burst,
                                                             pace.burst / pace.rate)
        return bucket

    async def acquire(self, workspace: str) -> float:
        """Wait for this workspace's turn; returns the seconds spent waiting."""
        started = time.monotonic()
        while True:
            if self.budget is not None:
                await self.budget.admit(workspace)
            await self.gate(workspace).wait()
            bucket = self._bucket(workspace)
            await bucket.acquire()
            if self._buckets.get(workspace) is bucket and (
                    self.budget is None or self.budget.valid(workspace)):
                return time.monotonic() - started
            # the share changed, or lapsed, while this request waited: it asks again

    def cool_down(self, workspace: str, seconds: float) -> None:
        self.gate(workspace).cool_down(seconds)
