"""Client CPU per request of the HTTP stacks the connector could use, POSTing Sticky events
to the sandbox (own process, rate limit off) over loopback keep-alive connections.

    .venv/bin/python bench/http_clients.py [--requests 3000] [--concurrency 8]

Stacks: httpx 0.28 and httpx2 on their own transports; httpx2 with trust_env off (no
proxy / netrc look-ups); httpx 0.28 and httpx2 over aiohttp through the ``httpx-aiohttp``
package; httpx2 over the connector's own aiohttp transport
(``connector/http/aio_transport.py``); raw aiohttp (the floor); and the connector's whole
Sticky client on that transport. Each on asyncio's loop and on uvloop's. Prints requests/s
and client CPU milliseconds per request (process CPU time, so the noise of a shared
machine's wall clock stays out). The connector uses the stack ``connector/http/lib.py``
names.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import sys
import time
from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import httpx2
import uvloop
from httpx_aiohttp import AiohttpTransport as HttpxAiohttp
from httpx_aiohttp.httpx2 import AiohttpTransport as Httpx2Aiohttp
from pydantic import SecretStr

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._sandbox_process import sandbox_process
from connector.delivery.limits import WorkspacePace
from connector.delivery.sticky import StickyClient, StickyEndpoint
from connector.http.aio_transport import AiohttpTransport
from connector.http.retry import RetryPolicy

HEADERS = {"Authorization": "Bearer sk_test_bench", "Sticky-Workspace": "ws_bench"}
Post = Callable[[dict[str, Any]], Awaitable[None]]
Stack = Callable[[str, int], Any]
"""(base URL, connections) → an async context manager yielding a ``post(body)``."""


class _HttpxStack:
    def __init__(self, client: Any) -> None:
        self.client = client

    async def __aenter__(self) -> Post:
        async def post(body: dict[str, Any]) -> None:
            response = await self.client.post("/v1/events", json=body)
            response.raise_for_status()
        return post

    async def __aexit__(self, *exc: object) -> None:
        await self.client.aclose()


def httpx_default(lib: Any, **kwargs: Any) -> Stack:
    def make(base_url: str, connections: int) -> _HttpxStack:
        limits = lib.Limits(max_connections=connections,
                            max_keepalive_connections=connections)
        return _HttpxStack(lib.AsyncClient(base_url=base_url, headers=HEADERS, limits=limits,
                                           **kwargs))
    return make


def httpx_over(lib: Any, transport: Callable[[int], Any]) -> Stack:
    def make(base_url: str, connections: int) -> _HttpxStack:
        return _HttpxStack(lib.AsyncClient(base_url=base_url, headers=HEADERS,
                                           transport=transport(connections), trust_env=False))
    return make


class _RawAiohttp:
    def __init__(self, base_url: str, connections: int) -> None:
        self.base_url = base_url
        self.connections = connections
        self.session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> Post:
        session = self.session = aiohttp.ClientSession(
            base_url=self.base_url, headers=HEADERS,
            connector=aiohttp.TCPConnector(limit=self.connections))

        async def post(body: dict[str, Any]) -> None:
            async with session.post("/v1/events", json=body) as response:
                response.raise_for_status()
                await response.read()
        return post

    async def __aexit__(self, *exc: object) -> None:
        assert self.session is not None
        await self.session.close()


class _StickyStack:
    """The connector's whole Sticky client (the seam, pacing transport with a limit far
    above what loopback reaches, the retry wrapper, the response checks)."""

    def __init__(self, base_url: str, connections: int) -> None:
        self.sticky = StickyClient(
            StickyEndpoint(base_url, SecretStr("sk_test_bench"), max_connections=connections),
            WorkspacePace.for_cap(1_000_000, 0.5), RetryPolicy(max_attempts=1))
        self.keys = itertools.count()

    async def __aenter__(self) -> Post:
        async def post(body: dict[str, Any]) -> None:
            await self.sticky.create_event("ws_bench", body, f"bench-{next(self.keys)}")
        return post

    async def __aexit__(self, *exc: object) -> None:
        await self.sticky.aclose()


STACKS: dict[str, Stack] = {
    "httpx 0.28": httpx_default(httpx),
    "httpx2": httpx_default(httpx2),
    "httpx2 trust_env off": httpx_default(httpx2, trust_env=False),
    "httpx 0.28/httpx-aiohttp": httpx_over(httpx, lambda n: HttpxAiohttp(
        limits=httpx.Limits(max_connections=n))),
    "httpx2/httpx-aiohttp": httpx_over(httpx2, lambda n: Httpx2Aiohttp(
        limits=httpx2.Limits(max_connections=n))),
    "httpx2/own aiohttp": httpx_over(httpx2, lambda n: AiohttpTransport(max_connections=n)),
    "raw aiohttp (floor)": _RawAiohttp,
    "StickyClient (connector)": _StickyStack,
}


async def measure(stack: Stack, base_url: str, total: int, concurrency: int,
                  customer_id: str) -> tuple[float, float]:
    body = {"type": "order.completed", "customer_id": customer_id, "amount_cents": 1250,
            "items": [{"sku": "sku-a", "qty": 1}]}
    sem = asyncio.Semaphore(concurrency)
    async with stack(base_url, concurrency) as post:
        async def one() -> None:
            async with sem:
                await post(body)

        await asyncio.gather(*(one() for _ in range(50)))  # warm up the pool
        cpu0, wall0 = time.process_time(), time.perf_counter()
        await asyncio.gather(*(one() for _ in range(total)))
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    return total / wall, cpu / total * 1000


def run_on(loop: str, coro: Coroutine[Any, Any, tuple[float, float]]) -> tuple[float, float]:
    if loop == "uvloop":
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            return runner.run(coro)
    return asyncio.run(coro)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[8])
    parser.add_argument("--rounds", type=int, default=2,
                        help="runs per stack; the lowest CPU figure is printed")
    args = parser.parse_args()
    with sandbox_process("--no-rate-limit") as base_url:
        created = httpx2.post(f"{base_url}/v1/customers", headers=HEADERS,
                              json={"phone": "+14155550100"}).json()
        print(f"{'stack':<28}{'loop':>8}{'in flight':>10}{'req/s':>8}{'CPU ms/req':>12}")
        for concurrency in args.concurrency:
            for name, stack in STACKS.items():
                for loop in ("asyncio", "uvloop"):
                    rate, cpu_ms = min(
                        (run_on(loop, measure(stack, base_url, args.requests, concurrency,
                                              created["id"])) for _ in range(args.rounds)),
                        key=lambda figures: figures[1])
                    print(f"{name:<28}{loop:>8}{concurrency:>10}{rate:>8.0f}{cpu_ms:>12.3f}",
                          flush=True)


if __name__ == "__main__":
    main()
