"""Costs of operating the connector, against the sandbox in its own process (no rate
limit, so the connector's own work is what is measured):

    .venv/bin/python bench/operations.py [--customers 1000] [--orders 20000] [--waiting 2000]

1. a first real run over the export (for scale);
2. a dry run over an overlapping re-export of the same rows (all unchanged): the state DB
   copy (rows, size, seconds) and the whole dry run;
3. quarantine and replay: ``--waiting`` orders whose customers are not synced yet are
   quarantined; the customers arrive; the next run reads them and replays the waiting
   orders: records replayed per second.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._sandbox_process import sandbox_process
from bench.throughput import make_drop, run
from connector.config import API_KEY_ENV, load_settings
from connector.logs import configure_logging
from connector.sync.dry_run import dry_run_pass
from tests.support import CUSTOMER_HEADER, ORDER_HEADER, drop_file, write_config


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000)
    parser.add_argument("--orders", type=int, default=20_000)
    parser.add_argument("--waiting", type=int, default=2_000)
    args = parser.parse_args()
    configure_logging("error", "console")
    os.environ.setdefault(API_KEY_ENV, "sk_test_bench")
    root = Path(tempfile.mkdtemp(prefix="sticky-bench-ops-"))
    try:
        with sandbox_process("--no-rate-limit") as base_url:
            config = write_config(root, base_url, batch_size=1_000, sticky={
                "rate_limit_per_second": 5_000, "max_in_flight_per_workspace": 24})
            settings = load_settings(config)
            drop = root / "drop"

            make_drop(drop, args.customers, args.orders)
            report, _, _, seconds = asyncio.run(run(config))
            records = report.total.records_read
            print(f"1. first run: {records} records in {seconds:.1f} s "
                  f"({records / seconds:.0f} records/s)")

            (drop / "processed").rename(root / "first-export")
            make_drop(drop, args.customers, args.orders)  # the same rows again...
            with (drop / "orders_1.csv").open("a", encoding="utf-8") as out:
                out.write("O-extra,C1,,001,,5.00,,\n")  # ...in a file that is not identical
            started = time.monotonic()
            dry = asyncio.run(dry_run_pass(settings))
            seconds = time.monotonic() - started
            copy = dry.snapshot
            size = (root / "state.db").stat().st_size / 2**20
            counts = {f"{t}/{w}": dict(c) for (t, w), c in dry.report.total.targets.items()}
            print(f"2. dry run of an overlapping re-export ({dry.report.total.records_read} "
                  f"records): state DB copy {sum(copy.rows.values())} rows "
                  f"({size:.1f} MiB) in {copy.seconds:.2f} s; whole dry run {seconds:.1f} s; "
                  f"requests it would send {sum(dry.requests.values())}; counts {counts}")

            for name in ("customers_1.csv", "orders_1.csv"):
                (drop / name).unlink()
            drop_file(drop, "orders_w.csv", ORDER_HEADER, [
                [f"W{i}", f"N{i}", "", "001", "", "7.00", "", ""]
                for i in range(args.waiting)])
            report, _, _, _ = asyncio.run(run(config))
            waiting = sum(report.total.quarantined.values())
            # +1 203 555 0000 onward; 555-1212 (directory assistance) is refused as a fake
            # phone, so that customer's order stays quarantined: 1 left is expected
            drop_file(drop, "customers_w.csv", CUSTOMER_HEADER, [
                [f"N{i}", f"+1203555{i % 10_000:04d}",
                 "", "", "", "", "", "", "", "001", ""] for i in range(args.waiting)])
            report, _, _, seconds = asyncio.run(run(config))
            sent = report.total.events_sent.get("order.completed", 0)
            left = sum(report.total.quarantined.values())
            print(f"3. replay: {waiting} orders quarantined (unknown customer); the next run "
                  f"read {args.waiting} customers and replayed them: {sent} orders "
                  f"delivered, {left} still quarantined, {seconds:.1f} s for "
                  f"{report.total.records_read} records ({report.total.records_read / seconds:.0f}"
                  " records/s)")
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
