"""Per-workspace pacing: the bucket bound, the 429 cool-down, every attempt paced."""

from __future__ import annotations

import time

import httpx2
import pytest

from connector.delivery.limits import WorkspaceLimiters, WorkspacePace
from connector.delivery.traffic import Traffic
from connector.delivery.transport import PacedTransport


@pytest.mark.parametrize(("cap", "headroom", "rate", "burst"), [
    (100, 0.03, 97.0, 2),
    (100, 0.05, 95.0, 4),
    (100, 0.0, 98.0, 1),
    (10, 0.03, 9.7, 1),
    (1, 0.03, 0.97, 1),
])
def test_pace_keeps_every_window_under_the_cap(cap: int, headroom: float, rate: float,
                                               burst: int) -> None:
    pace = WorkspacePace.for_cap(cap, headroom)
    assert (pace.rate, pace.burst) == pytest.approx((rate, burst))
    if cap >= 20:
        assert pace.burst + pace.rate <= cap - 1


def max_in_any_window(stamps: list[float], window: float = 1.0) -> int:
    best, start = 0, 0
    for end, t in enumerate(stamps):
        while stamps[start] <= t - window:
            start += 1
        best = max(best, end - start + 1)
    return best


async def test_bursts_after_idle_never_exceed_the_cap_in_a_rolling_second() -> None:
    limiters = WorkspaceLimiters(WorkspacePace.for_cap(100, 0.03))
    stamps: list[float] = []
    for _ in range(150):  # from idle: aiolimiter(100, 1) would let 100 out at once here
        await limiters.acquire("ws_a")
        stamps.append(time.monotonic())
    assert max_in_any_window(stamps) <= 99
    assert len(stamps) / (stamps[-1] - stamps[0]) > 90


async def test_a_429_pauses_the_whole_workspace_for_retry_after() -> None:
    calls: list[tuple[str, float]] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        calls.append((request.headers["Sticky-Workspace"], time.monotonic()))
        if len(calls) == 1:
            return httpx2.Response(429, headers={"Retry-After": "0.4"})
        return httpx2.Response(200, json={"id": "x"})

    traffic = Traffic()
    transport = PacedTransport(httpx2.MockTransport(handler),
                               WorkspaceLimiters(WorkspacePace.for_cap(100, 0.03)), traffic)
    async with httpx2.AsyncClient(transport=transport, base_url="http://t") as client:
        await client.post("/v1/events", headers={"Sticky-Workspace": "ws_a"})
        await client.post("/v1/events", headers={"Sticky-Workspace": "ws_a"})
        await client.post("/v1/events", headers={"Sticky-Workspace": "ws_b"})
    (_, first), (_, second), (other_ws, third) = calls
    assert second - first >= 0.39
    assert other_ws == "ws_b" and third - second < 0.2  # another workspace is not paused
    assert traffic.by_workspace["ws_a"].rate_limited == 1
    assert traffic.by_workspace["ws_a"].requests == 2
