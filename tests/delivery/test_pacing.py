"""Per-workspace pacing: the bucket bound, the 429 cool-down, every attempt paced."""

from __future__ import annotations

import asyncio
import time

import httpx2
import pytest
from aiohttp import web

from connector.delivery.limits import (
    RollingWindow,
    TurnLapsed,
    WorkspaceLimiters,
    WorkspacePace,
)
from connector.delivery.traffic import Traffic
from connector.delivery.transport import PacedTransport
from connector.http.aio_transport import AiohttpTransport


@pytest.mark.parametrize(("cap", "headroom", "rate", "burst"), [
    (100, 0.015, 98.5, 2),
    (100, 0.03, 97.0, 2),
    (100, 0.05, 95.0, 2),
    (100, 0.0, 99.0, 2),
    (10, 0.03, 9.7, 1),
    (1, 0.03, 0.97, 1),
])
def test_pace_keeps_every_window_under_the_cap(cap: int, headroom: float, rate: float,
                                               burst: float) -> None:
    pace = WorkspacePace.for_cap(cap, headroom)
    assert (pace.rate, pace.burst) == pytest.approx((rate, burst))
    assert pace.window == (cap - 1 if cap >= 20 else cap)


def test_each_429_slows_the_pace_down_to_ninety_percent_of_the_cap() -> None:
    pace = WorkspacePace.for_cap(100, 0.015)
    assert pace.slowed(0) == pace
    assert pace.slowed(1).rate == pytest.approx(97.5)
    assert pace.slowed(3).rate == pytest.approx(95.5)
    assert pace.slowed(50).rate == pytest.approx(90.0)
    assert pace.slowed(2).burst == pace.burst
    assert pace.slowed(3).window == 95  # the bound follows the rate down


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


async def test_the_default_pace_sends_98_a_second_and_never_100_in_a_rolling_second() -> None:
    limiters = WorkspaceLimiters(WorkspacePace.for_cap(100, 0.015))
    stamps: list[float] = []
    for n in range(300):
        await limiters.acquire("ws_a")
        stamps.append(time.monotonic())
        if n % 50 == 49:
            time.sleep(0.03)  # the event loop held up: the bucket catches up, the window holds
    assert max_in_any_window(stamps) <= 99
    # loose: a loaded machine's late timers are what the fractional bucket absorbs
    assert len(stamps) / (stamps[-1] - stamps[0]) > 95


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
    assert transport_pace(transport, "ws_a").rate < transport_pace(transport, "ws_b").rate


async def test_the_rolling_window_holds_whatever_the_bucket_lets_out() -> None:
    window = RollingWindow(5, period=0.2)
    stamps: list[float] = []
    for _ in range(12):
        await window.acquire()
        stamps.append(time.monotonic())
    assert max_in_any_window(stamps, window=0.2) <= 5
    assert stamps[5] - stamps[0] >= 0.2 and stamps[10] - stamps[5] >= 0.2


def transport_pace(transport: PacedTransport, workspace: str) -> WorkspacePace:
    return transport._limiters.pace_of(workspace)


async def test_a_new_bucket_lets_no_burst_out_before_the_rate() -> None:
    # A full bucket let burst + rate requests out in the first second: one more than the
    # window's cap - 1, so the window alone held them, with no room left for a request
    # that arrives a few ms late (8 workspaces: a 429 each, ~1 s into a run).
    limiters = WorkspaceLimiters(WorkspacePace.for_cap(100, 0.02))
    stamps: list[float] = []
    for _ in range(101):
        await limiters.acquire("ws_a")
        stamps.append(time.monotonic())
    first_second = sum(1 for t in stamps if t - stamps[0] < 1.0)
    assert first_second <= 99
    assert stamps[1] - stamps[0] >= 0.5 / 98  # the second waits for the rate


async def test_the_window_is_entered_once_per_request_with_or_without_a_send_gate() -> None:
    # MockTransport does not run the send gate: the pacer enters the window itself.
    limiters = WorkspaceLimiters(WorkspacePace.for_cap(100, 0.02))
    transport = PacedTransport(httpx2.MockTransport(lambda _: httpx2.Response(200)),
                               limiters, Traffic())
    async with httpx2.AsyncClient(transport=transport, base_url="http://t") as client:
        for _ in range(3):
            await client.post("/v1/events", headers={"Sticky-Workspace": "ws_a"})
    assert len(limiters._windows["ws_a"]._stamps) == 3


async def test_a_turn_that_a_429_overtakes_in_the_window_lapses() -> None:
    # A request waiting in a full window when a 429 arrives is not sent: it queues again.
    limiters = WorkspaceLimiters(WorkspacePace.for_cap(100, 0.02))
    await limiters.acquire("ws_a")
    for _ in range(98):  # the window full (99) at once
        await limiters.enter_window("ws_a")
    waiting = asyncio.ensure_future(limiters.enter_window("ws_a"))
    await asyncio.sleep(0.05)
    limiters.cool_down("ws_a", 5.0)
    with pytest.raises(TurnLapsed):
        await waiting


async def test_requests_in_line_for_the_bucket_wait_out_a_cool_down() -> None:
    limiters = WorkspaceLimiters(WorkspacePace.for_cap(100, 0.02))
    await limiters.acquire("ws_a")
    returned: list[float] = []

    async def one() -> None:
        await limiters.acquire("ws_a")
        returned.append(time.monotonic())

    tasks = [asyncio.ensure_future(one()) for _ in range(10)]
    await asyncio.sleep(0)
    limiters.cool_down("ws_a", 0.5)
    cooled_at = time.monotonic()
    await asyncio.gather(*tasks)
    assert min(returned) - cooled_at >= 0.45


async def test_a_late_answer_moves_its_request_in_the_window() -> None:
    window = RollingWindow(3, period=0.3)
    first = await window.acquire()
    second = await window.acquire()
    third = await window.acquire()
    window.arrived_late(first, 0.1)  # the server took the first in 100 ms late
    assert list(window._stamps) == [second, third, first + 0.1]
    await window.acquire()  # a slot frees a period after the second ...
    await window.acquire()  # ... and the third ...
    await window.acquire()  # ... and the first only a period after it arrived
    assert time.monotonic() >= first + 0.1 + 0.3 - 0.002


async def test_requests_a_stalled_server_took_in_late_count_late_no_429() -> None:
    """A server that stalls (a garbage collection, a queue) takes in what arrived
    meanwhile all at once and counts it then: with stamps that ignore it, the window a
    second later held more than the cap (one 429 per workspace in bench/throughput.py).
    The late answers move those requests' stamps: nothing is refused."""
    cap = 20
    arrivals: list[float] = []
    refused = 0
    stall = {"from": 0.0, "until": 0.0}

    async def handle(request: web.Request) -> web.Response:
        nonlocal refused
        now = time.monotonic()
        if stall["from"] <= now < stall["until"]:
            await asyncio.sleep(stall["until"] - now)  # queued until the server is back
        now = time.monotonic()
        if sum(1 for t in arrivals if t > now - 1.0) >= cap:
            refused += 1
            return web.Response(status=429, headers={"Retry-After": "1"})
        arrivals.append(now)
        await asyncio.sleep(0.02)
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_post("/v1/events", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    limiters = WorkspaceLimiters(WorkspacePace.for_cap(cap, 0.02))
    transport = PacedTransport(AiohttpTransport(), limiters, Traffic())
    try:
        async with httpx2.AsyncClient(transport=transport,
                                      base_url=f"http://127.0.0.1:{port}") as client:
            async def lane() -> None:
                while time.monotonic() < end:
                    await client.post("/v1/events", headers={"Sticky-Workspace": "ws_a"})

            start = time.monotonic()
            stall["from"], stall["until"] = start + 1.0, start + 1.2
            end = start + 3.0
            await asyncio.gather(*(lane() for _ in range(4)))
    finally:
        await runner.cleanup()
    assert refused == 0
    assert len(arrivals) >= 2.5 * cap  # the pace held otherwise (~19.6/s)
