"""F1: watermark = "run_start" (Treez, BLAZE members) + a pass resumed in a later run.

The watermark of a resumed pass is the *resuming* run's start, but the pages read before
the interruption were read at the first run's time. A record updated in between moves to
page 1 of a newest-first list (already read), and its time is older than the new
run's start minus the lookback: it is never read."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import unquote

from adapters.records import CustomerRecord
from connector.http.lib import httpx
from tests.adapters.pos_edges.support import Clock, iso, js, make, spec_file
from tests.adapters.support import MemoryState, records, run

SPEC = """
[streams.customers]
path = "/c/after/{since}/page/{page}"
[streams.customers.pagination]
kind = "page"
start = 1
size = 2
stop = "empty"
[streams.customers.incremental]
format = "iso"
field = "updated"
lookback = "15m"
watermark = "run_start"
[streams.customers.fields]
customer_id = "id"
phone = "phone"
updated_at = "updated"
"""

T0 = datetime(2026, 5, 20, 12, 0, tzinfo=UTC)


def test_a_record_updated_while_a_run_start_pass_was_interrupted_is_read(
        tmp_path: Path) -> None:
    db = {f"c{n}": {"id": f"c{n}", "phone": f"(415) 555-01{n:02d}",
                    "updated": iso(T0 - timedelta(days=10 - n))} for n in range(6)}

    def handler(request: httpx.Request) -> httpx.Response:  # newest first, updated >= since
        parts = unquote(request.url.path).split("/")
        since = datetime.fromisoformat(parts[3].replace("Z", "+00:00"))
        page = int(parts[5])
        rows = sorted((r for r in db.values()
                       if datetime.fromisoformat(r["updated"].replace("Z", "+00:00")) >= since),
                      key=lambda r: r["updated"], reverse=True)
        return js({"data": rows[(page - 1) * 2:page * 2]})

    spec = spec_file(tmp_path, SPEC)
    state = MemoryState()
    clock = Clock(T0)
    # run 1: page 1 read and committed, then the process is killed (or the run fails)
    batches = make(spec, handler, clock).read(state, 100)
    first = next(batches)
    state.put_cursor(first.stream, first.position)
    seen = [r.customer_id for r in first.records if isinstance(r, CustomerRecord)]
    # c0 (the oldest, on page 3) is updated 30 minutes later: it moves to page 1
    db["c0"] = {**db["c0"], "phone": "(415) 555-0199", "updated": iso(T0 + timedelta(minutes=30))}
    # run 2, two hours later: resumes at page 2
    clock.now = T0 + timedelta(hours=2)
    seen += [r.customer_id for r in records(run(make(spec, handler, clock), state))
             if isinstance(r, CustomerRecord)]
    # run 3, five minutes later: a normal incremental pass
    clock.now = T0 + timedelta(hours=2, minutes=5)
    later = records(run(make(spec, handler, clock), state))
    updated = [r for r in later if isinstance(r, CustomerRecord) and r.customer_id == "c0"]
    assert updated, "c0's update (made during the interrupted pass) is never read"
