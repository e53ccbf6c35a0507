"""F1b: watermark = "auto" moves to the newest record time seen, even past the moment the
pass started. In a list not sorted by that time (Dutchie's customers: order not
documented; a long first read at 60 requests/minute), a record on an already-read page
updated during the walk is older than a record updated later and seen on a later page:
when the walk is longer than the lookback, the next pass starts after the update."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from adapters.records import CustomerRecord
from connector.http.lib import httpx
from tests.adapters.pos_edges.support import Clock, iso, js, make, spec_file
from tests.adapters.support import MemoryState, records, run

SPEC = """
[streams.customers]
path = "/customer/customers-paginated"
[streams.customers.pagination]
kind = "page"
page_param = "PageNumber"
size_param = "PageSize"
size = 2
stop = "empty"
[streams.customers.incremental]
param = "fromLastModifiedDateUTC"
field = { path = "lastModifiedDateUTC", timezone = "UTC" }
lookback = "10m"
first_read = "open"
[streams.customers.fields]
customer_id = "customerId"
phone = "cellPhone"
"""
T0 = datetime(2026, 5, 20, 12, 0, tzinfo=UTC)


def test_an_update_made_during_a_long_walk_is_read_next_pass(tmp_path: Path) -> None:
    db: dict[int, dict[str, Any]] = {
        n: {"customerId": n, "cellPhone": f"(415) 555-01{n:02d}",
            "lastModifiedDateUTC": iso(T0 - timedelta(days=30))} for n in range(1, 7)}
    clock = Clock(T0)

    # by customerId, as a paginated table usually is
    def handler(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params["PageNumber"])
        since = request.url.params.get("fromLastModifiedDateUTC")
        rows = [r for _, r in sorted(db.items())
                if since is None or r["lastModifiedDateUTC"] >= since]
        answer = js(rows[(page - 1) * 2:page * 2])
        if page == 1:     # the walk is slow (throttled): things happen meanwhile
            db[1] = {**db[1], "cellPhone": "(415) 555-0199",
                     "lastModifiedDateUTC": iso(T0 + timedelta(minutes=1))}
            db[6] = {**db[6], "lastModifiedDateUTC": iso(T0 + timedelta(minutes=20))}
        clock.now += timedelta(minutes=11)
        return answer

    state = MemoryState()
    run(make(spec_file(tmp_path, SPEC), handler, clock), state)
    clock.now += timedelta(minutes=5)
    later = records(run(make(spec_file(tmp_path, SPEC), handler, clock), state))
    assert any(isinstance(r, CustomerRecord) and r.customer_id == "1" for r in later), \
        "customer 1's update (at T0+1m, after its page was read) is never read"
