"""Sustained delivery rate against the sandbox (in its own process), per workspace.

    .venv/bin/python bench/throughput.py [--events 20000] [--customers 1000] [--latency-ms 40]

Prints per workspace: requests, achieved req/s, 429s (seen by the connector and sent by
the sandbox), the sandbox's peak count in any rolling second, and the connector's
CPU-seconds per 1,000 records and per 1,000 requests. Target (issue 18): >= 98 req/s per
workspace with zero 429s at 40 ms of API latency.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import httpx2

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._sandbox_process import sandbox_process
from connector import runtime
from connector.config import API_KEY_ENV, load_settings
from connector.delivery.traffic import Traffic
from connector.logs import configure_logging
from connector.sync.orchestrator import PassReport, run_pass, sticky_client
from state import StateStore
from tests.support import CUSTOMER_HEADER, ORDER_HEADER, drop_file, write_config

WORKSPACES = {"001": "ws_test_downtown", "002": "ws_test_eastside"}


def make_drop(drop: Path, customers: int, events: int) -> None:
    def phone(i: int) -> str:
        return f"+1{('415', '510', '628', '707', '650', '925', '408', '916')[i // 100 % 8]}" \
               f"555{100 + i % 100:04d}" if i < 800 else f"+1{200 + i // 100}55501{i % 100:02d}"

    drop_file(drop, "customers_1.csv", CUSTOMER_HEADER, [
        [f"C{i}", phone(i), "", "", "", "", "", "", "", "001" if i % 2 else "002", ""]
        for i in range(customers)])
    drop_file(drop, "orders_1.csv", ORDER_HEADER, [
        [f"O{i}", f"C{(2 * i + (i // customers) % 2) % customers}", "",
         "001" if i % 2 else "002", "", f"{5 + i % 90}.00", "sku-a:1", ""]
        for i in range(events)])


async def run(config: Path) -> tuple[PassReport, Traffic, float, float]:
    settings = load_settings(config)
    store = StateStore.open(settings.state.url)
    try:
        async with sticky_client(settings) as sticky:
            cpu0, wall0 = time.process_time(), time.monotonic()
            report = await run_pass(settings, store, sticky, trigger="backfill")
            return report, sticky.traffic, time.process_time() - cpu0, time.monotonic() - wall0
    finally:
        store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--customers", type=int, default=1_000)
    parser.add_argument("--batch-size", type=int, default=1_000)
    parser.add_argument("--headroom", type=float, default=0.02,
                        help="sticky.rate_limit_headroom (default: the config default)")
    parser.add_argument("--latency-ms", type=float, default=40.0,
                        help="the sandbox's answer latency (a real API's, roughly)")
    args = parser.parse_args()
    configure_logging("warning", "console")
    os.environ.setdefault(API_KEY_ENV, "sk_test_bench")
    root = Path(tempfile.mkdtemp(prefix="sticky-bench-"))
    try:
        with sandbox_process("--latency-ms", str(args.latency_ms)) as base_url:
            config = write_config(root, base_url, batch_size=args.batch_size,
                              sticky={"rate_limit_headroom": args.headroom})
            make_drop(root / "drop", args.customers, args.events)
            report, traffic, cpu, wall = runtime.run(run(config))
            stats = httpx2.get(f"{base_url}/_sandbox/stats").json()["workspaces"]
    finally:
        shutil.rmtree(root, ignore_errors=True)
    total = report.total
    records = total.records_read
    requests = sum(t.requests for t in traffic.by_workspace.values())
    print(f"records read {records}, customers created {total.customers_created}, "
          f"events sent {sum(total.events_sent.values())}, wall {wall:.1f}s, "
          f"connector CPU {cpu:.1f}s = {cpu / records * 1000:.3f} CPU-s per 1,000 records, "
          f"{cpu / max(requests, 1) * 1000:.3f} per 1,000 requests")
    print(f"{'workspace':<20}{'requests':>10}{'req/s':>9}{'429 seen':>10}"
          f"{'429 sent':>10}{'peak/1s':>9}")
    for ws, t in sorted(traffic.by_workspace.items()):
        s = stats.get(ws, {})
        print(f"{ws:<20}{t.requests:>10}{t.requests_per_second:>9.1f}{t.rate_limited:>10}"
              f"{s.get('rate_limited', 0):>10}{s.get('peak_window', 0):>9}")


if __name__ == "__main__":
    main()
