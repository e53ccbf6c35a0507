"""Per-workspace request pacing: a leaky bucket sized for a strict rolling window, plus a
cool-down gate that pauses a whole workspace after a 429.

aiolimiter's ``AsyncLimiter(100, 1)`` lets a full bucket of 100 requests out at once after
any idle spell, so a strict server counting a rolling second sees up to ~199. The bound
for any 1-second window is ``burst + rate``: we keep it one below the cap, with the
configured headroom taken off the sustained rate (``WorkspacePace.for_cap``).
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
        rate = cap_per_second * (1.0 - headroom)
        burst = max(1, math.floor(cap_per_second - 1 - rate))
        if burst + rate > cap_per_second - 1 and cap_per_second > 2:
            rate = cap_per_second - 1 - burst
        return cls(rate=rate, burst=burst)

    @property
    def worst_window(self) -> float:
        """Most requests that can leave in any 1-second window."""
        return self.burst + self.rate


class CooldownGate:
    """Holds every request of one workspace until a ``Retry-After`` has passed."""

    def __init__(self) -> None:
        self._not_before = 0.0

    def cool_down(self, seconds: float) -> None:
        self._not_before = max(self._not_before, time.monotonic() + max(0.0, seconds))

    async def wait(self) -> float:
        waited = 0.0
        while (delay := self._not_before - time.monotonic()) > 0:
            await asyncio.sleep(delay)
            waited += delay
        return waited


class WorkspaceLimiters:
    """One limiter and gate per workspace, created lazily inside the running loop."""

    def __init__(self, pace: WorkspacePace) -> None:
        self.pace = pace
        self._limiters: dict[str, AsyncLimiter] = {}
        self._gates: dict[str, CooldownGate] = {}

    def _limiter(self, workspace: str) -> AsyncLimiter:
        limiter = self._limiters.get(workspace)
        if limiter is None:
            limiter = AsyncLimiter(self.pace.burst, self.pace.burst / self.pace.rate)
            self._limiters[workspace] = limiter
        return limiter

    def gate(self, workspace: str) -> CooldownGate:
        return self._gates.setdefault(workspace, CooldownGate())

    async def acquire(self, workspace: str) -> float:
        """Wait for this workspace's turn; returns the seconds spent waiting."""
        started = time.monotonic()
        await self.gate(workspace).wait()
        await self._limiter(workspace).acquire()
        return time.monotonic() - started

    def cool_down(self, workspace: str, seconds: float) -> None:
        self.gate(workspace).cool_down(seconds)
