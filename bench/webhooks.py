"""How fast the webhook receiver answers and how fast stored events are applied:

    .venv/bin/python bench/webhooks.py [--events 2000] [--concurrency 16] [--hostile 1000]

The receiver (the daemon's server class, verification, the SQLite state DB inbox) runs
in a child process; this process signs and posts ``--events`` distinct tier-change events
with ``--concurrency`` in flight, then the same events again (Sticky's retries: answered
as duplicates), and prints deliveries per second and answer latency percentiles. Then it
applies the stored events (``process_pending``: tier facts, no write-back) and prints
events per second. With ``--hostile N`` the receiver runs as the daemon does (behind
its connection guard, connector/daemon/guard.py) with its open-file limit lowered to
1,024, and the new events are posted while N connections are held open against it, half
idle and half sending a request one byte a second. Nothing is asserted: the machines are
noisy.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx2
from starlette.applications import Starlette

from connector.config import WebhookSettings, build_settings
from connector.daemon.guard import Guard, Limits, connection_cap
from connector.daemon.server import HealthServer
from connector.logs import configure_logging
from connector.webhooks.processor import process_pending
from connector.webhooks.receiver import Receiver
from connector.webhooks.secrets import SecretBook
from connector.webhooks.signature import sign
from state import StateStore
from tests.hostile import HostileClients, ensure_open_files

WS = "ws_bench"
SECRET = "whsec_bench_secret_0123456789"


def _serve(state_url: str, secrets_file: str, port_out: multiprocessing.Queue[int],
           guarded: bool) -> None:
    configure_logging("error", "json")
    guard = None
    if guarded:
        resource.setrlimit(resource.RLIMIT_NOFILE, (1024, 1024))
        guard = Guard(Limits(), connection_cap(Limits().max_connections, 1024))
    hooks = WebhookSettings(url="http://127.0.0.1/hooks/{workspace}",
                            secrets_file=Path(secrets_file))
    store = StateStore.open(state_url)
    receiver = Receiver(hooks, store, SecretBook(hooks, {hooks.secret_env(WS): SECRET}), [WS])

    async def main() -> None:
        server = HealthServer(Starlette(routes=receiver.routes()), "127.0.0.1", 0, guard)
        await server.start()
        port_out.put(int(server.url.rsplit(":", 1)[1]))
        await asyncio.Event().wait()

    asyncio.run(main())


def _body(n: int) -> bytes:
    return json.dumps({"id": f"whe_{n:08d}", "type": "customer.tier_changed",
                       "created_at": "2026-12-03T07:00:00Z", "workspace": WS,
                       "data": {"customer_id": f"cus_{n:08d}", "previous_tier": "bronze",
                                "tier": "silver", "points_balance": 300}},
                      separators=(",", ":")).encode()


async def _post_all(url: str, count: int, concurrency: int) -> tuple[float, list[float],
                                                                      dict[int, int]]:
    gate = asyncio.Semaphore(concurrency)
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    limits = httpx2.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx2.AsyncClient(limits=limits, timeout=30) as client:
        async def one(n: int) -> None:
            body = _body(n)
            async with gate:
                started = time.perf_counter()
                response = await client.post(url, content=body, headers={
                    "Sticky-Signature": sign(SECRET, body), "Content-Type": "application/json"})
                latencies.append(time.perf_counter() - started)
                statuses[response.status_code] = statuses.get(response.status_code, 0) + 1

        started = time.perf_counter()
        await asyncio.gather(*(one(n) for n in range(count)))
        return time.perf_counter() - started, latencies, statuses


def _report(label: str, count: int, seconds: float, latencies: list[float],
            statuses: dict[int, int]) -> None:
    cuts = statistics.quantiles(latencies, n=100)
    print(f"{label}: {count} deliveries in {seconds:.2f} s = {count / seconds:.0f}/s; "
          f"answer latency p50 {cuts[49] * 1000:.1f} ms, p95 {cuts[94] * 1000:.1f} ms, "
          f"p99 {cuts[98] * 1000:.1f} ms; statuses {statuses}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--hostile", type=int, default=0,
                        help="idle and slow connections held open meanwhile")
    args = parser.parse_args()
    configure_logging("error", "json")
    with tempfile.TemporaryDirectory() as tmp:
        state_url = f"sqlite:///{tmp}/state.db"
        StateStore.open(state_url).close()
        ports: multiprocessing.Queue[int] = multiprocessing.Queue()
        child = multiprocessing.Process(target=_serve, args=(
            state_url, f"{tmp}/s.json", ports, args.hostile > 0), daemon=True)
        child.start()
        try:
            port = ports.get(timeout=30)
            url = f"http://127.0.0.1:{port}/hooks/{WS}"
            with contextlib.ExitStack() as stack:
                label = "new events"
                if args.hostile:
                    ensure_open_files(args.hostile + 256)
                    stack.enter_context(HostileClients(
                        "127.0.0.1", port, idle=args.hostile // 2,
                        slow=args.hostile - args.hostile // 2))
                    label = f"new events, {args.hostile} idle/slow connections held open"
                seconds, latencies, statuses = asyncio.run(
                    _post_all(url, args.events, args.concurrency))
            _report(label, args.events, seconds, latencies, statuses)
            seconds, latencies, statuses = asyncio.run(
                _post_all(url, args.events, args.concurrency))
            _report("repeats   ", args.events, seconds, latencies, statuses)
        finally:
            child.terminate()
            child.join()
        store = StateStore.open(state_url)
        try:
            settings = build_settings({"tenants": [{"id": "t", "name": "T",
                                                    "default_workspace": WS}]})
            started = time.perf_counter()
            report = process_pending(settings, store)
            seconds = time.perf_counter() - started
            applied = sum(report.outcomes.values())
            print(f"applied {applied} stored events in {seconds:.2f} s = "
                  f"{applied / seconds:.0f}/s ({dict(report.outcomes)}); inbox "
                  f"{store.webhooks.inbox_counts()}")
        finally:
            store.close()


if __name__ == "__main__":
    main()
