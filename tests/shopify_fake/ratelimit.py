"""The GraphQL Admin leaky bucket of cost points (one per fake: one app on one shop)."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any


class LeakyBucket:
    """``maximum`` points, refilled at ``restore_rate`` points per second, starting full.

    Not thread-safe by itself: :class:`~tests.shopify_fake.fake.ShopifyFake` holds its lock.
    """

    def __init__(
        self,
        maximum: float,
        restore_rate: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if maximum <= 0 or restore_rate <= 0:
            raise ValueError("maximum and restore_rate must be positive")
        self._clock = clock
        self._maximum = float(maximum)
        self._rate = float(restore_rate)
        self._level = float(maximum)
        self._stamp = clock()

    def _refill(self) -> None:
        now = self._clock()
        self._level = min(self._maximum, self._level + (now - self._stamp) * self._rate)
        self._stamp = now

    @property
    def maximum(self) -> float:
        return self._maximum

    @property
    def restore_rate(self) -> float:
        return self._rate

    def configure(self, maximum: float | None = None, restore_rate: float | None = None) -> None:
        self._refill()
        if maximum is not None:
            if maximum <= 0:
                raise ValueError("maximum must be positive")
            self._maximum = float(maximum)
            self._level = min(self._level, self._maximum)
        if restore_rate is not None:
            if restore_rate <= 0:
                raise ValueError("restore_rate must be positive")
            self._rate = float(restore_rate)

    def available(self) -> float:
        self._refill()
        return self._level

    def set_available(self, points: float) -> None:
        self._refill()
        self._level = max(0.0, min(self._maximum, float(points)))

    def try_take(self, cost: int) -> bool:
        """Take ``cost`` points if the bucket holds them (the requested cost)."""
        self._refill()
        if cost > self._level:
            return False
        self._level -= cost
        return True

    def give_back(self, points: int) -> None:
        """Refund ``requested - actual`` after the query ran."""
        self._refill()
        self._level = min(self._maximum, self._level + max(0, points))

    def wait_time(self, cost: int) -> float:
        """Seconds until ``cost`` points are available."""
        self._refill()
        return max(0.0, (cost - self._level) / self._rate)

    def status(self) -> dict[str, Any]:
        """``throttleStatus`` as Shopify sends it (floats for the limits, an int level)."""
        self._refill()
        return {
            "maximumAvailable": self._maximum,
            "currentlyAvailable": math.floor(self._level),
            "restoreRate": self._rate,
        }
