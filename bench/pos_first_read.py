"""A Dutchie first read with the shipped preset: how many capped windows, requests and
seconds it takes to walk a long history, and what a second (incremental) read costs.

The Dutchie fake (tests/pos_fake) serves 1440-hour windows at most, over real HTTP on
loopback; the adapter reads without the engine (no sandbox, nothing sent), so the
figures are the source side alone.

    .venv/bin/python bench/pos_first_read.py [--transactions 3000] [--years 3]
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from adapters.pos import PosAdapter, load_spec
from adapters.records import OrderRecord
from tests.adapters.support import MemoryState, records, run
from tests.pos_fake import running_pos
from tests.pos_fake.dutchie import DutchiePos

PRESET = Path(__file__).resolve().parents[1] / "examples" / "pos" / "dutchie.toml"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--transactions", type=int, default=3000)
    parser.add_argument("--years", type=float, default=3.0)
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    fake = DutchiePos(now=datetime.now(UTC) - timedelta(minutes=5))
    span = timedelta(days=365 * args.years)
    start = fake.now() - span
    customer = fake.add_customer()
    for n in range(args.transactions):
        when = start + span * (n + 0.5) / args.transactions
        fake.add_transaction(customer["customerId"], items=[(101, 1, 20.0)],
                             transaction_date=when)
    env = {"DUTCHIE_LOCATION_KEY": fake.location_key}
    state = MemoryState()
    with running_pos(fake) as pos:
        for label in ("first read from 2000-01-01 (no start_date)",
                      "next read (incremental)"):
            fake.clear_requests()
            adapter = PosAdapter(name="dutchie", spec=load_spec(PRESET),
                                 base_url=pos.base_url, variables={"location": "001"},
                                 environ=env)
            began, cpu = time.perf_counter(), time.process_time()
            found = records(run(adapter, state, batch_size=250))
            wall, used = time.perf_counter() - began, time.process_time() - cpu
            orders = sum(isinstance(r, OrderRecord) for r in found)
            windows = len(fake.requests_to("/reporting/transactions"))
            widest = max(_span(r.query) for r in fake.requests_to("/reporting/transactions"))
            print(f"{label}: {orders} orders, {windows} transaction windows "
                  f"(widest {widest:.0f} h), {len(fake.requests)} requests, "
                  f"{wall:.2f} s wall, {used:.2f} s CPU")


def _span(query: dict[str, str]) -> float:
    lower = datetime.fromisoformat(query["FromLastModifiedDateUTC"].replace("Z", "+00:00"))
    upper = datetime.fromisoformat(query["ToLastModifiedDateUTC"].replace("Z", "+00:00"))
    return (upper - lower).total_seconds() / 3600


if __name__ == "__main__":
    main()
