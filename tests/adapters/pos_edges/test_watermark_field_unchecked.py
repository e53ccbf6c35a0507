"""F5: a misspelt incremental.field is checked by nothing: `check` (probe) looks only at
streams.*.fields, and a run whose records carry no readable time leaves the watermark
where it was without a word, so every run reads the whole list again (no lower bound
at all with first_read = "open")."""
from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from connector.http.lib import httpx
from tests.adapters.pos_edges.support import Clock, js, make, spec_file
from tests.adapters.support import MemoryState, run

SPEC = """
[streams.customers]
path = "/api/customers"
[streams.customers.incremental]
param = "updated_since"
field = "updatedAt"             # the API writes updated_at
[streams.customers.fields]
customer_id = "id"
phone = "phone"
updated_at = "updated_at"
"""
ROWS = [{"id": "c1", "phone": "(415) 555-0101", "updated_at": "2026-05-01T10:00:00Z"}]


def test_check_names_an_incremental_field_no_record_has(tmp_path: Path) -> None:
    adapter = make(spec_file(tmp_path, SPEC), lambda r: js(ROWS),
                   Clock(datetime(2026, 5, 20, tzinfo=UTC)))
    [probe] = adapter.probe()
    assert probe.unresolved, "check would say ok: the watermark field is never looked at"


def test_a_run_says_its_watermark_could_not_move(tmp_path: Path) -> None:
    sent: list[dict[str, str]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(dict(request.url.params))
        return js(ROWS)

    state = MemoryState()
    for _ in range(3):
        adapter = make(spec_file(tmp_path, SPEC), handler,
                       Clock(datetime(2026, 5, 20, tzinfo=UTC)))
        run(adapter, state)
    assert adapter.notices or adapter.remarks, "three full reads, not a word said"
