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

from aiolimiter import AsyncLimiter


@dataclass(frozen=True, slots=True)
class WorkspacePace:
    rate: float
    burst: int

    @classmethod
    def for_cap(cls, cap_per_second: int, headroom: float) -> WorkspacePace:
        """``headroom`` of the cap comes off the sustained rate, and the bucket is sized so
        that ``burst + rate <= cap - 1`` (100/s, 0.03 → rate 97, burst 2: ≤ 99 a window).
        Small caps (a few per second) get a bucket of one: evenly spaced requests."""
        rate = cap_per_second * (1.0 - headroom)
        if cap_per_second < 20:
            return cls(rate=rate, burst=1)
        burst = max(1, math.floor(cap_per_second - 1 - rate))
        return cls(rate=min(rate, cap_per_second - 1 - burst), burst=burst)


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
        self._buckets: dict[str, AsyncLimiter] = {}
        self._gates: dict[str, CooldownGate] = {}

    def gate(self, workspace: str) -> CooldownGate:
        return self._gates.setdefault(workspace, CooldownGate())

    async def acquire(self, workspace: str) -> float:
        """Wait for this workspace's turn; returns the seconds spent waiting."""
        started = time.monotonic()
        bucket = self._buckets.get(workspace)
        if bucket is None:
            bucket = self._buckets[workspace] = AsyncLimiter(
                self.pace.burst, self.pace.burst / self.pace.rate)
        await self.gate(workspace).wait()
        await bucket.acquire()
        return time.monotonic() - started

    def cool_down(self, workspace: str, seconds: float) -> None:
        self.gate(workspace).cool_down(seconds)
