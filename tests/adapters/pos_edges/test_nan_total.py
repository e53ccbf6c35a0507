"""F4: one order whose total is NaN (a JSON NaN, or the text "NaN") makes the end-of-read
amount check raise decimal.InvalidOperation out of PosAdapter.read: the run fails (a
traceback-shaped error, not a record rejection), every run that reads it."""
from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from tests.adapters.pos_edges.support import Clock, js, make, spec_file
from tests.adapters.support import MemoryState, run

SPEC = """
[streams.orders]
path = "/api/orders"
amounts = "dollars"
[streams.orders.fields]
order_id = "id"
phone = "phone"
total = "total"
"""


def test_a_nan_total_is_a_bad_record_not_a_failed_run(tmp_path: Path) -> None:
    rows = [{"id": f"o{n}", "phone": "(415) 555-0101", "total": t}
            for n, t in enumerate(["40.00", "NaN", "12.50", "30.00"])]
    run(make(spec_file(tmp_path, SPEC), lambda r: js(rows),
             Clock(datetime(2026, 5, 20, tzinfo=UTC))), MemoryState())
