"""Offline speed of a dry run: ``sticky-sync run --dry-run`` over a large CSV drop.

    .venv/bin/python bench/dry_run.py [--orders 1000000] [--customers 50000]
                                      [--batch-size 500] [--keep DIR] [--profile N]

Generates (deterministically, in a temporary folder) a customers file and an orders file
in the shapes the CSV drop reads, runs the real CLI in a subprocess, and prints its wall
seconds, CPU seconds (user + system of the child), records per second (wall and CPU) and
RSS: sampled from ``/proc/<pid>/status`` every 0.5 s (to show it stays flat) and the peak
from ``getrusage(RUSAGE_CHILDREN)`` once the child has exited. Target (issue 18): >= 20,000
records/s over 1,000,000 order rows, RSS flat under 200 MB.

``--profile N`` runs the same dry run in this process instead, under cProfile in every
thread (the event loop, the state thread, the reader), and prints the N functions with
the most own time and the N with the most cumulative time, all threads merged.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import csv
import io
import os
import pstats
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from types import FrameType
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from connector.config import load_settings
from connector.logs import configure_logging
from connector.sync.dry_run import dry_run_pass
from tests.support import CUSTOMER_HEADER, ORDER_HEADER, write_config

AREAS = ("415", "510", "628", "707", "650", "925", "408", "916", "213", "310")
STORES = ("001", "002")


def customer_phone(i: int) -> str:
    """A distinct valid US number per customer, written as a POS would: ``(415) 234-5678``."""
    area = AREAS[i % len(AREAS)]
    rest = i // len(AREAS)
    return f"({area}) {200 + rest // 10_000:03d}-{rest % 10_000:04d}"


def customer_row(i: int) -> list[str]:
    return [f"C{i}", customer_phone(i), f"c{i}@example.com", f"First{i % 997}",
            f"Last{i % 991}", "yes" if i % 3 else "no", "yes" if i % 4 else "",
            "pos" if i % 3 else "", "2026-10-01T09:00:00-07:00" if i % 3 else "",
            STORES[i % 2], f"2026-10-{1 + i % 28:02d}T12:00:00-07:00"]


def order_row(i: int, customers: int) -> list[str]:
    c = (i * 7919) % customers  # every customer gets orders, spread through the file
    phone = customer_phone(c) if i % 5 == 0 else ""  # some exports repeat the phone
    items = "sku-a:1" if i % 2 else "sku-a:1;sku-b:2"
    return [f"O{i}", f"C{c}", phone, STORES[c % 2],
            f"2026-11-{1 + i % 28:02d}T{8 + i % 12:02d}:{i % 60:02d}:00-08:00",
            f"{5 + i % 90}.{i % 100:02d}", items, "completed"]


def make_drop(drop: Path, customers: int, orders: int) -> None:
    drop.mkdir(parents=True, exist_ok=True)
    with (drop / "customers_1.csv").open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(CUSTOMER_HEADER)
        writer.writerows(customer_row(i) for i in range(customers))
    with (drop / "orders_1.csv").open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(ORDER_HEADER)
        writer.writerows(order_row(i, customers) for i in range(orders))


def vm_rss_mb(pid: int) -> float | None:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def run_cli(root: Path, config: Path, sample_every: float) -> tuple[float, float, float,
                                                                    list[tuple[float, float]],
                                                                    str, int]:
    cli = Path(sys.executable).with_name("sticky-sync")
    env = {**os.environ, "STICKY_SYNC_STICKY__API_KEY": "sk_test_bench"}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    with (root / "out.txt").open("w+") as out:
        proc = subprocess.Popen([str(cli), "run", "--dry-run", "--json", "--config",
                                 str(config)], cwd=root, env=env, stdout=out,
                                stderr=subprocess.STDOUT)
        samples: list[tuple[float, float]] = []
        while proc.poll() is None:
            rss = vm_rss_mb(proc.pid)
            if rss is not None:
                samples.append((time.monotonic() - started, rss))
            time.sleep(sample_every)
        wall = time.monotonic() - started
        out.seek(0)
        text = out.read()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, after.ru_maxrss / 1024, samples, text, proc.returncode


def profile_in_process(config: Path, top: int) -> None:
    """The dry run in this process with cProfile in every thread, stats merged."""
    profiles: list[cProfile.Profile] = []

    def start_in_thread(frame: FrameType, event: str, arg: Any) -> None:
        sys.setprofile(None)
        profiler = cProfile.Profile()
        profiles.append(profiler)
        profiler.enable()

    configure_logging("warning", "console")
    os.environ.setdefault("STICKY_SYNC_STICKY__API_KEY", "sk_test_bench")
    os.chdir(config.parent)
    settings = load_settings(config)
    main_profile = cProfile.Profile()
    profiles.append(main_profile)
    threading.setprofile(start_in_thread)
    cpu, wall = time.process_time(), time.monotonic()
    main_profile.enable()
    try:
        result = asyncio.run(dry_run_pass(settings))
    finally:
        main_profile.disable()
        threading.setprofile(None)  # type: ignore[arg-type]
    cpu, wall = time.process_time() - cpu, time.monotonic() - wall
    print(f"in process, profiled: records {result.report.total.records_read}, wall "
          f"{wall:.1f}s, CPU {cpu:.1f}s")
    out = io.StringIO()
    stats = pstats.Stats(*profiles, stream=out)
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top)
    print(out.getvalue())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=50_000)
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--sample-every", type=float, default=0.5)
    parser.add_argument("--keep", type=Path, help="generate into (and keep) this folder")
    parser.add_argument("--profile", type=int, metavar="N",
                        help="run in this process under cProfile; print the top N")
    args = parser.parse_args()
    root = args.keep or Path(tempfile.mkdtemp(prefix="sticky-dry-bench-"))
    try:
        config = write_config(root, "http://127.0.0.1:9", batch_size=args.batch_size)
        t0 = time.monotonic()
        if not (root / "drop" / "orders_1.csv").exists():
            make_drop(root / "drop", args.customers, args.orders)
        print(f"generated {args.customers} customers + {args.orders} orders in "
              f"{time.monotonic() - t0:.1f}s", flush=True)
        if args.profile:
            profile_in_process(config, args.profile)
            return
        wall, cpu, peak, samples, text, code = run_cli(root, config, args.sample_every)
    finally:
        if args.keep is None:
            shutil.rmtree(root, ignore_errors=True)
    records = args.customers + args.orders
    if code not in (0, 1):
        print(text[-4000:])
        raise SystemExit(f"sticky-sync exited with {code}")
    print(f"exit {code}; records {records}; wall {wall:.1f}s; CPU {cpu:.1f}s "
          f"({100 * cpu / wall:.0f}% busy); {records / wall:,.0f} records/s wall, "
          f"{records / cpu:,.0f} records/s CPU; peak RSS {peak:.0f} MB")
    if samples:
        step = max(1, len(samples) // 12)
        shown = samples[::step]
        print("RSS over time (s: MB): " + ", ".join(f"{t:.0f}: {mb:.0f}" for t, mb in shown))


if __name__ == "__main__":
    main()
