"""All mutable state of one sandbox instance."""

from __future__ import annotations

from dataclasses import dataclass

from sandbox.config import SandboxConfig
from sandbox.faults import FaultInjector
from sandbox.idempotency import IdempotencyStore
from sandbox.ratelimit import RollingWindowLimiter
from sandbox.stats import Stats
from sandbox.sticky.store import StickyStore


@dataclass
class ApiRuntime:
    """Per-API request bookkeeping: rate windows, idempotency keys, stats."""

    limiter: RollingWindowLimiter | None
    idempotency: IdempotencyStore
    stats: Stats

    @classmethod
    def create(cls, rate_limit: int | None) -> ApiRuntime:
        limiter = RollingWindowLimiter(rate_limit) if rate_limit is not None else None
        return cls(limiter, IdempotencyStore(), Stats())

    def reset(self) -> None:
        if self.limiter is not None:
            self.limiter.reset()
        self.idempotency.reset()
        self.stats.reset()


class SandboxState:
    """Reset clears in place, so requests in flight keep valid references."""

    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        self.faults = FaultInjector(config.faults)
        self.sticky_store = StickyStore()
        self.sticky = ApiRuntime.create(config.rate_limit)

    def reset(self, *, faults: bool = False) -> None:
        self.sticky_store.reset()
        self.sticky.reset()
        if faults:
            self.faults.reset()
