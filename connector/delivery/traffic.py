"""Counters of what went over the wire, per workspace (for the run summary and metrics)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field


@dataclass(slots=True)
class WorkspaceTraffic:
    requests: int = 0
    rate_limited: int = 0
    server_errors: int = 0
    network_errors: int = 0
    limiter_wait_seconds: float = 0.0
    first_request: float | None = None
    last_request: float | None = None

    @property
    def requests_per_second(self) -> float:
        if self.first_request is None or self.last_request is None or self.requests < 2:
            return 0.0
        span = self.last_request - self.first_request
        return (self.requests - 1) / span if span > 0 else 0.0


@dataclass(slots=True)
class Traffic:
    by_workspace: dict[str, WorkspaceTraffic] = field(default_factory=dict)

    def of(self, workspace: str) -> WorkspaceTraffic:
        entry = self.by_workspace.get(workspace)
        if entry is None:
            entry = self.by_workspace[workspace] = WorkspaceTraffic()
        return entry

    def request_sent(self, workspace: str, waited: float) -> None:
        entry = self.of(workspace)
        now = time.monotonic()
        entry.requests += 1
        entry.limiter_wait_seconds += waited
        if entry.first_request is None:
            entry.first_request = now
        entry.last_request = now
