"""F2: an API that ignores the page parameter (Flowhub's customers: "may return an array
or a paginated envelope", shape UNCONFIRMED) answers the same records to every page:
stop = "empty" never comes, the loop guard only compares page numbers, so the adapter
sends max_pages (10,000) requests before failing."""
from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from adapters.records import CustomerRecord
from connector.http.lib import httpx
from tests.adapters.pos_edges.support import Clock, js, make, spec_file
from tests.adapters.support import MemoryState, records, run

SPEC = """
[streams.customers]
path = "/v1/customers/"
[streams.customers.pagination]
kind = "page"
size_param = "page_size"
size = 100
stop = "empty"
[streams.customers.fields]
customer_id = "id"
phone = "phone"
"""


def test_a_page_parameter_the_api_ignores_is_noticed(tmp_path: Path) -> None:
    calls: list[str | None] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.params.get("page"))
        return js([{"id": "c1", "phone": "(415) 555-0101"},
                   {"id": "c2", "phone": "(415) 555-0102"}])

    adapter = make(spec_file(tmp_path, SPEC), handler, Clock(datetime(2026, 5, 20, tzinfo=UTC)))
    found = records(run(adapter, MemoryState()))  # before the fix: 10,000 requests, fail
    assert len(calls) <= 3, f"{len(calls)} requests for one page of two customers"
    assert sorted((r.customer_id for r in found if isinstance(r, CustomerRecord)),
                  key=str) == ["c1", "c2"]
    assert adapter.remarks, "the summary says the API does not page"
