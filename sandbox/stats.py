"""Per-workspace request and outcome counters exposed at ``/_sandbox/stats``."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass


@dataclass
class WorkspaceStats:
    requests: int = 0
    accepted: int = 0  # 2xx sent
    rejected: int = 0  # 4xx other than 429 sent
    rate_limited: int = 0  # 429 sent (rate limit or storm)
    server_errors: int = 0  # injected 5xx sent
    dropped: int = 0  # connections dropped on purpose
    customers_created: int = 0
    customers_deduplicated: int = 0
    events_created: int = 0
    idempotent_replays: int = 0
    peak_window: int = 0  # most counted requests seen in one rolling window

    def record_status(self, status: int) -> None:
        if status < 300:
            self.accepted += 1
        elif status == 429:
            self.rate_limited += 1
        elif status >= 500:
            self.server_errors += 1
        else:
            self.rejected += 1


STAT_KEYS: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(WorkspaceStats))


class Stats:
    def __init__(self) -> None:
        self._workspaces: dict[str, WorkspaceStats] = {}

    def workspace(self, name: str) -> WorkspaceStats:
        stats = self._workspaces.get(name)
        if stats is None:
            stats = self._workspaces[name] = WorkspaceStats()
        return stats

    def snapshot(self) -> dict[str, object]:
        workspaces = {ws: dataclasses.asdict(s) for ws, s in self._workspaces.items()}
        totals = {key: sum(s[key] for s in workspaces.values()) for key in STAT_KEYS}
        return {"workspaces": workspaces, "totals": totals}

    def reset(self) -> None:
        self._workspaces.clear()
