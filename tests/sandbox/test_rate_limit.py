from __future__ import annotations

import asyncio
import time

import httpx2

from sandbox import RunningSandbox, SandboxConfig
from sandbox.ratelimit import RollingWindowLimiter
from sandbox.testing import SandboxAdmin, sandbox_server, sticky_async_client, sticky_client
from tests.sandbox.conftest import WS_A, WS_B
from tests.sandbox.helpers import assert_error, new_phone


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_limiter_is_a_rolling_window() -> None:
    clock = FakeClock()
    limiter = RollingWindowLimiter(10, clock=clock)
    assert all(limiter.acquire("ws").allowed for _ in range(5))
    clock.now += 0.6
    assert [limiter.acquire("ws").in_window for _ in range(5)] == [6, 7, 8, 9, 10]
    denied = limiter.acquire("ws")
    assert (denied.allowed, denied.retry_after) == (False, 1)
    assert limiter.acquire("other").allowed  # keys are independent
    clock.now += 0.4  # the first five leave the window (a fixed window would free all ten)
    assert [limiter.acquire("ws").allowed for _ in range(6)] == [True] * 5 + [False]
    clock.now += 0.59
    assert not limiter.acquire("ws").allowed
    clock.now += 0.02
    assert limiter.acquire("ws").allowed


def test_limiter_retry_after_rounds_up() -> None:
    clock = FakeClock()
    limiter = RollingWindowLimiter(1, window=3.0, clock=clock)
    assert limiter.acquire("ws").allowed
    clock.now += 0.5
    assert limiter.acquire("ws").retry_after == 3  # 2.5 s -> 3
    clock.now += 2.4
    assert limiter.acquire("ws").retry_after == 1  # 0.1 s -> at least 1


async def test_burst_is_cut_at_the_limit(sandbox: RunningSandbox, admin: SandboxAdmin) -> None:
    limits = httpx2.Limits(max_connections=130)
    async with sticky_async_client(sandbox, WS_A, limits=limits) as client:
        started = time.monotonic()
        responses = await asyncio.gather(
            *(client.post("/v1/customers", json={"phone": new_phone()}) for _ in range(130))
        )
        finished = time.monotonic()
    elapsed = finished - started
    print(f"burst of 130 took {elapsed:.3f}s")
    assert elapsed < 1.0, f"burst too slow to test a 1 s window ({elapsed:.2f}s)"
    statuses = [r.status_code for r in responses]
    assert statuses.count(201) == 100
    assert statuses.count(429) == 30
    for response in responses:
        if response.status_code == 429:
            assert_error(response, 429, "rate_limit_error", "rate_limited")
            retry_after = response.headers["retry-after"]
            assert retry_after.isdigit() and int(retry_after) >= 1

    with sticky_client(sandbox, WS_B) as other:  # another workspace is unaffected
        assert other.post("/v1/customers", json={"phone": new_phone()}).status_code == 201

    stats = admin.stats()["workspaces"]
    assert stats[WS_A]["peak_window"] == 100
    assert stats[WS_A]["rate_limited"] == 30
    assert stats[WS_A]["customers_created"] == 100
    assert stats[WS_A]["requests"] == 130
    assert len(admin.customers(WS_A)) == 100

    await asyncio.sleep(max(0.0, finished + 1.02 - time.monotonic()))  # all arrivals expired
    with sticky_client(sandbox, WS_A) as client_a:
        assert client_a.post("/v1/customers", json={"phone": new_phone()}).status_code == 201


def test_rejected_requests_count_toward_the_limit(
    sandbox: RunningSandbox, admin: SandboxAdmin
) -> None:
    with sticky_client(sandbox, WS_A) as client:
        statuses = [client.post("/v1/customers", json={}).status_code for _ in range(101)]
    assert statuses == [400] * 100 + [429]
    assert admin.workspace_stats(WS_A)["peak_window"] == 100


def test_rate_limit_can_be_disabled() -> None:
    with (
        sandbox_server(SandboxConfig(rate_limit=None)) as unlimited,
        sticky_client(unlimited, WS_A) as client,
    ):
        statuses = {client.get("/v1/customers").status_code for _ in range(120)}
    assert statuses == {200}
