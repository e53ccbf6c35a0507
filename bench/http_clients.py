"""httpx 0.28 against httpx2 (its maintained continuation), POSTing Sticky events to the
sandbox (own process, rate limit off) over loopback keep-alive connections.

    .venv/bin/python bench/http_clients.py [--requests 3000]

Prints, per client and concurrency: requests/s and client CPU milliseconds per request.
The connector imports whichever is faster from ``connector/http/lib.py``.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import httpx2

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._sandbox_process import sandbox_process

HEADERS = {"Authorization": "Bearer sk_test_bench", "Sticky-Workspace": "ws_bench"}


async def measure(lib: ModuleType, base_url: str, total: int, concurrency: int,
                  customer_id: str) -> tuple[float, float]:
    limits = lib.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    client: Any = lib.AsyncClient(base_url=base_url, headers=HEADERS, limits=limits)
    body = {"type": "order.completed", "customer_id": customer_id, "amount_cents": 1250,
            "items": [{"sku": "sku-a", "qty": 1}]}
    sem = asyncio.Semaphore(concurrency)

    async def one() -> None:
        async with sem:
            response = await client.post("/v1/events", json=body)
            response.raise_for_status()

    async with client:
        await asyncio.gather(*(one() for _ in range(50)))  # warm up the pool
        cpu0, wall0 = time.process_time(), time.perf_counter()
        await asyncio.gather(*(one() for _ in range(total)))
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    return total / wall, cpu / total * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000)
    args = parser.parse_args()
    with sandbox_process("--no-rate-limit") as base_url:
        created = httpx2.post(f"{base_url}/v1/customers", headers=HEADERS,
                              json={"phone": "+14155550100"}).json()
        print(f"{'client':<14}{'concurrency':>12}{'req/s':>10}{'CPU ms/req':>12}")
        for concurrency in (1, 8, 16):
            for name, lib in (("httpx 0.28", httpx), ("httpx2", httpx2)):
                rate, cpu_ms = asyncio.run(measure(lib, base_url, args.requests, concurrency,
                                                   created["id"]))
                print(f"{name:<14}{concurrency:>12}{rate:>10.0f}{cpu_ms:>12.2f}")


if __name__ == "__main__":
    main()
