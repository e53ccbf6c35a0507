"""F6: max_window with a date-only format in a zone with DST: the window is cut in
absolute hours (since + span, + 24 h for the inclusive end day) and then turned into
local dates, so across the spring-forward night the span *sent* is one day longer than
max_window; an API that enforces its cap refuses the window, and since the window is
recomputed from the same watermark, every run does."""
from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from connector.http.lib import httpx
from tests.adapters.pos_edges.support import Clock, js, make, spec_file
from tests.adapters.support import MemoryState, run

SPEC = """
[streams.orders]
path = "/api/orders"
amounts = "dollars"
[streams.orders.incremental]
param = "from"
upper_param = "to"
format = "date"
field = "updated"
lookback = "0s"
max_window = "2d"
[streams.orders.fields]
order_id = "id"
phone = "phone"
total = "total"
"""


def test_no_window_sent_is_longer_than_max_window(tmp_path: Path) -> None:
    sent: list[tuple[str, str]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append((request.url.params["from"], request.url.params["to"]))
        return js([])

    state = MemoryState()
    # the last pass ended at 23:30 New York time on the eve of spring forward (2026-03-08)
    state.put_cursor("orders", {"watermark": "2026-03-08T04:30:00Z", "done": True})
    run(make(spec_file(tmp_path, SPEC), handler, Clock(datetime(2026, 3, 20, tzinfo=UTC)),
             timezone="America/New_York"), state)
    spans = [(date.fromisoformat(b) - date.fromisoformat(a)).days for a, b in sent]
    assert max(spans) <= 2, f"windows sent: {sent}"
