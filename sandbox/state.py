"""All mutable state of one sandbox instance."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic

from sandbox.config import SandboxConfig
from sandbox.faults import FaultInjector
from sandbox.idempotency import IdempotencyStore
from sandbox.ratelimit import RollingWindowLimiter
from sandbox.stats import S, Stats, WorkspaceStats
from sandbox.sticker.stats import StickerStats
from sandbox.sticker.store import StickerStore
from sandbox.sticky.dispatcher import WebhookDispatcher
from sandbox.sticky.store import StickyStore


@dataclass
class ApiRuntime(Generic[S]):
    """Per-API request bookkeeping: rate windows, idempotency keys, stats."""

    limiter: RollingWindowLimiter | None
    idempotency: IdempotencyStore
    stats: Stats[S]

    @classmethod
    def create(cls, rate_limit: int | None, stats_factory: Callable[[], S]) -> ApiRuntime[S]:
        limiter = RollingWindowLimiter(rate_limit) if rate_limit is not None else None
        return cls(limiter, IdempotencyStore(), Stats(stats_factory))

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
        self.sticky_webhooks = WebhookDispatcher(self.sticky_store, config.webhook_settings)
        self.sticky: ApiRuntime[WorkspaceStats] = ApiRuntime.create(
            config.rate_limit, WorkspaceStats
        )
        self.sticker_store = StickerStore()
        self.sticker: ApiRuntime[StickerStats] = ApiRuntime.create(
            config.sticker_rate_limit, StickerStats
        )

    def reset(self, *, faults: bool = False) -> None:
        """Clear data, counters and webhook events (cancelling pending deliveries); with
        ``faults`` also restore the start faults and webhook settings."""
        self.sticky_webhooks.reset(settings=faults)
        self.sticky_store.reset()
        self.sticky.reset()
        self.sticker_store.reset()
        self.sticker.reset()
        if faults:
            self.faults.reset()
