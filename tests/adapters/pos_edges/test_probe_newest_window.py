"""F7: `check` on a stream with max_window (Dutchie transactions, BLAZE transactions)
reads the *first* window of a first read (2000-01-01 + 1440 h without start_date): always
empty, so the selector and field paths of orders are never checked on a real record; the
check only says "the first page is empty"."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from connector.http.lib import httpx
from tests.adapters.pos_edges.support import Clock, iso, js, make, spec_file

SPEC = """
[streams.orders]
path = "/reporting/transactions"
amounts = "dollars"
[streams.orders.incremental]
param = "FromLastModifiedDateUTC"
upper_param = "ToLastModifiedDateUTC"
field = "lastModifiedDateUTC"
max_window = "1440h"
[streams.orders.fields]
order_id = "transactionId"
total = "total"
"""
NOW = datetime(2026, 5, 20, tzinfo=UTC)


def test_check_reads_records_that_exist(tmp_path: Path) -> None:
    rows: list[dict[str, Any]] = [{"transactionId": 1, "total": 20.5,
                                   "lastModifiedDateUTC": iso(NOW - timedelta(days=2))}]

    def handler(request: httpx.Request) -> httpx.Response:
        lower = request.url.params["FromLastModifiedDateUTC"]
        upper = request.url.params["ToLastModifiedDateUTC"]
        return js([r for r in rows if lower <= r["lastModifiedDateUTC"] <= upper])

    [probe] = make(spec_file(tmp_path, SPEC), handler, Clock(NOW)).probe()
    assert probe.records == 1, "check read the window of January 2000"
