"""Request and outcome counters exposed at ``/_sandbox/stats``.

:class:`RequestStats` holds what the generic pipeline counts; each API extends it with
its own outcome counters (:class:`WorkspaceStats` for Sticky, ``StickerStats`` for
Sticker). :class:`Stats` keeps one counter set per key (a Sticky workspace, or the fixed
name ``"sticker"``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar


@dataclass
class RequestStats:
    requests: int = 0
    accepted: int = 0  # 2xx sent
    rejected: int = 0  # 4xx other than 429 sent
    rate_limited: int = 0  # 429 sent (rate limit or storm)
    server_errors: int = 0  # 5xx sent (injected)
    dropped: int = 0  # connections dropped on purpose

    def record_status(self, status: int) -> None:
        if status < 300:
            self.accepted += 1
        elif status == 429:
            self.rate_limited += 1
        elif status >= 500:
            self.server_errors += 1
        else:
            self.rejected += 1

    def record_window(self, in_window: int) -> None:
        """A request was counted by the rate limiter; ``in_window`` includes it."""

    def record_replay(self) -> None:
        """An idempotent replay was served (only APIs that honour Idempotency-Key)."""


@dataclass
class WorkspaceStats(RequestStats):
    customers_created: int = 0
    customers_deduplicated: int = 0
    events_created: int = 0
    idempotent_replays: int = 0
    peak_window: int = 0  # most counted requests seen in one rolling window

    def record_window(self, in_window: int) -> None:
        self.peak_window = max(self.peak_window, in_window)

    def record_replay(self) -> None:
        self.idempotent_replays += 1


STAT_KEYS: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(WorkspaceStats))

S = TypeVar("S", bound=RequestStats)


class Stats(Generic[S]):
    """Counter sets by key, created on first use."""

    def __init__(self, factory: Callable[[], S]) -> None:
        self._factory = factory
        self._entries: dict[str, S] = {}

    def entry(self, name: str) -> S:
        stats = self._entries.get(name)
        if stats is None:
            stats = self._entries[name] = self._factory()
        return stats

    def as_dicts(self) -> dict[str, dict[str, int]]:
        return {name: dataclasses.asdict(s) for name, s in self._entries.items()}

    def reset(self) -> None:
        self._entries.clear()


def workspace_snapshot(stats: Stats[WorkspaceStats]) -> dict[str, object]:
    """``{"workspaces": {ws: counters}, "totals": counters}`` (totals are sums)."""
    workspaces = stats.as_dicts()
    totals = {key: sum(s[key] for s in workspaces.values()) for key in STAT_KEYS}
    return {"workspaces": workspaces, "totals": totals}
