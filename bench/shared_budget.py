"""Two processes sending to the same Sticky workspaces at once share each workspace's cap.

    .venv/bin/python bench/shared_budget.py [--customers 500] [--events 3000] [--pg URL]

Two `sticky-sync run` processes (two CSV sources of one tenant, each with its own
customers and orders for both workspaces) start together against the sandbox (in its own
process, strict 100 requests per rolling second per workspace). The sandbox's counters are
polled every 0.5 s; printed per workspace: the combined rate while both processes were
sending, as a share of the cap, the sandbox's peak in any rolling second, and the 429s.
Target (issue 17): at least 90 % of the cap together, no 429, peak <= 100.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx2

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._sandbox_process import sandbox_process
from connector.config import API_KEY_ENV
from tests.support import CUSTOMER_HEADER, ORDER_HEADER, csv_sources, drop_file, write_config

WORKSPACES = ("ws_test_downtown", "ws_test_eastside")
CAP = 100


AREAS = ("415", "510", "628", "707", "650", "925", "408", "916", "530", "559", "661", "805")


def phone(i: int) -> str:
    """A valid US number in the fictional 555-01xx range: 100 per area code."""
    return f"+1{AREAS[i // 100]}55501{i % 100:02d}"


def make_drop(folder: Path, prefix: str, first: int, customers: int, events: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    drop_file(folder, "customers_1.csv", CUSTOMER_HEADER, [
        [f"{prefix}{i}", phone(first + i), "", "", "", "", "", "", "",
         "001" if i % 2 else "002", ""] for i in range(customers)])
    drop_file(folder, "orders_1.csv", ORDER_HEADER, [
        [f"{prefix}-O{i}", f"{prefix}{i % customers}", "", "001" if i % customers % 2 else "002",
         "", f"{5 + i % 90}.00", "sku-a:1", ""] for i in range(events)])


def requests_by_workspace(base_url: str) -> dict[str, tuple[int, int, int]]:
    stats = httpx2.get(f"{base_url}/_sandbox/stats", timeout=10).json()["workspaces"]
    return {ws: (stats.get(ws, {}).get("requests", 0), stats.get(ws, {}).get("peak_window", 0),
                 stats.get(ws, {}).get("rate_limited", 0)) for ws in WORKSPACES}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=500, help="per source")
    parser.add_argument("--events", type=int, default=3000, help="per source")
    parser.add_argument("--pg", help="a PostgreSQL URL for the state DB (default: SQLite)")
    args = parser.parse_args()
    os.environ.setdefault(API_KEY_ENV, "sk_test_bench")
    root = Path(tempfile.mkdtemp(prefix="sticky-bench-"))
    try:
        with sandbox_process() as base_url:
            config = write_config(root, base_url, state_url=args.pg,
                                  sources=csv_sources("pos-a", "pos-b", batch_size=500))
            make_drop(root / "drop-pos-a", "A", 0, args.customers, args.events)
            make_drop(root / "drop-pos-b", "B", args.customers, args.customers, args.events)
            env = {**os.environ, "STICKY_SYNC_LOG_LEVEL": "warning"}
            started = time.monotonic()
            procs = [subprocess.Popen(
                [sys.executable, "-m", "connector", "run", "--source", name, "--config",
                 str(config)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                for name in ("pos-a", "pos-b")]
            samples: list[tuple[float, dict[str, tuple[int, int, int]]]] = []
            while all(p.poll() is None for p in procs):
                samples.append((time.monotonic(), requests_by_workspace(base_url)))
                time.sleep(0.5)
            first_done = time.monotonic() - started
            codes = [p.wait(timeout=600) for p in procs]
            wall = time.monotonic() - started
            final = requests_by_workspace(base_url)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print(f"exit codes {codes}; both sending for {first_done:.1f} s, all done in {wall:.1f} s")
    # the overlap, less its first 3 s (the second process joining) and last sample
    steady = [s for s in samples if s[0] - started >= 3.0]
    print(f"{'workspace':<20}{'requests':>10}{'both req/s':>12}{'of cap':>8}{'peak/1s':>9}"
          f"{'429 sent':>10}")
    for ws in WORKSPACES:
        rate = 0.0
        if len(steady) >= 2:
            (t0, a), (t1, b) = steady[0], steady[-1]
            rate = (b[ws][0] - a[ws][0]) / (t1 - t0)
        requests, peak, limited = final[ws]
        print(f"{ws:<20}{requests:>10}{rate:>12.1f}{rate / CAP:>8.0%}{peak:>9}{limited:>10}")


if __name__ == "__main__":
    main()
