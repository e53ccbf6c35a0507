"""Rolling-window rate limiter: at most ``limit`` counted requests in any ``window`` seconds."""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class RateDecision:
    allowed: bool
    in_window: int  # counted requests in the window, including this one when allowed
    retry_after: int  # whole seconds until a slot frees (>= 1); 0 when allowed


class RollingWindowLimiter:
    """Per-key deque of arrival times of counted (accepted) requests.

    A rejected request is not counted, so a client hammering at 429s does not
    extend its own penalty.
    """

    def __init__(
        self, limit: int, window: float = 1.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit = limit
        self.window = window
        self._clock = clock
        self._arrivals: dict[str, deque[float]] = {}

    def acquire(self, key: str) -> RateDecision:
        now = self._clock()
        arrivals = self._arrivals.get(key)
        if arrivals is None:
            arrivals = self._arrivals[key] = deque()
        horizon = now - self.window
        while arrivals and arrivals[0] <= horizon:
            arrivals.popleft()
        if len(arrivals) >= self.limit:
            wait = arrivals[0] + self.window - now
            return RateDecision(False, len(arrivals), max(1, math.ceil(wait)))
        arrivals.append(now)
        return RateDecision(True, len(arrivals), 0)

    def reset(self) -> None:
        self._arrivals.clear()
