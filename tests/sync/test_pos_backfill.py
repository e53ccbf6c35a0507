"""`sticky-sync backfill` of a described REST POS: a date window read with the orders
stream's incremental parameters, under its own cursor; interrupted and resumed at its page;
nothing sent twice against an earlier or later incremental run."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import pytest
from starlette.responses import Response

from connector.delivery.traffic import Traffic
from connector.errors import ConfigurationError
from connector.outcomes import ExitCode
from connector.sync.orchestrator import run_backfill, sticky_client
from connector.sync.summary import RunSummary
from sandbox.testing import SandboxAdmin
from tests.pos_fake import GenericPos, running_pos
from tests.pos_fake.server import RunningPos
from tests.support import WS_ONLINE, e164, pos_source
from tests.sync.conftest import Harness

SPEC = """
name = "generic"
timezone = "UTC"
[auth]
kind = "bearer"
token_env = "POS_TEST_TOKEN"
[streams.orders]
amounts = "dollars"
path = "/api/orders"
records = "data"
[streams.orders.pagination]
kind = "page"
size_param = "per_page"
size = 4
total_path = "total"
[streams.orders.incremental]
param = "updated_since"
upper_param = "updated_before"
field = "updated_at"
lookback = "1h"
[streams.orders.fields]
order_id = "id"
phone = "phone"
completed_at = "closed_at"
total = { path = "total_cents", cents = true }
"""


class FlakyPos(GenericPos):
    """Answers its ``fail_at``-th request (1-based) with an HTML error page."""

    fail_at = 0
    seen = 0

    def _gateway_fault(self) -> Response | None:
        self.seen += 1
        if self.seen == self.fail_at:
            self.html_error_next = 1
        return super()._gateway_fault()


@pytest.fixture
def pos(monkeypatch: pytest.MonkeyPatch) -> Iterator[RunningPos]:
    monkeypatch.setenv("POS_TEST_TOKEN", "test-token")
    fake = FlakyPos(pagination="page", page_size=4)
    for month in (1, 2, 3):
        for n in range(1, 6):  # five sales a month
            fake.add_order({"id": f"S{month}{n}", "phone": f"(415) 555-01{month}{n}",
                            "closed_at": f"2026-{month:02d}-{n * 3:02d}T18:00:00Z",
                            "updated_at": f"2026-{month:02d}-{n * 3:02d}T18:00:00Z",
                            "total_cents": 1000 * month + n})
    with running_pos(fake) as running:
        yield running


def _backfill(harness: Harness, since: date, until: date,
              progress: list[tuple[int, int | None]] | None = None) -> ExitCode:
    def on_batch(summary: RunSummary, _traffic: Traffic, expected: int | None) -> None:
        if progress is not None:
            progress.append((summary.records_read, expected))

    async def go() -> ExitCode:
        store = harness.store()
        try:
            async with sticky_client(harness.settings) as sticky:
                report = await run_backfill(harness.settings, store, sticky,
                                            source_name="pos-api", since=since, until=until,
                                            on_batch=on_batch)
                return report.exit_code
        finally:
            store.close()
    return asyncio.run(go())


def _completed(admin: SandboxAdmin) -> Counter[int]:
    return Counter(e["amount_cents"] for e in admin.events(WS_ONLINE)
                   if e["type"] == "order.completed")


def test_a_pos_backfill_reads_its_window_resumes_and_never_resends(
        make_harness: Callable[..., Harness], tmp_path: Path, pos: RunningPos,
        admin: SandboxAdmin) -> None:
    spec = tmp_path / "spec.toml"
    spec.write_text(SPEC, encoding="utf-8")
    harness = make_harness(sources=pos_source(spec, pos.base_url))
    fake = pos.fake
    assert isinstance(fake, FlakyPos)
    fake.fail_at = 2  # the window's second page is an HTML error page

    progress: list[tuple[int, int | None]] = []
    assert _backfill(harness, date(2026, 2, 1), date(2026, 3, 1),
                     progress) == ExitCode.TARGET_UNREACHABLE
    assert sum(_completed(admin).values()) == 4  # the first page went out
    assert progress == [(4, 5)]  # the POS said 5 match: the progress display's total
    progress.clear()
    assert _backfill(harness, date(2026, 2, 1), date(2026, 3, 1), progress) == ExitCode.OK
    assert progress[0] == (1, 1)  # resumed after 4 of 5: 1 left
    assert sorted(_completed(admin)) == [2001, 2002, 2003, 2004, 2005]  # February only
    requests = [dict(r.query) for r in fake.requests_to("/api/orders")]
    assert requests[-1]["updated_since"] == "2026-02-01T00:00:00Z"
    assert requests[-1]["updated_before"] == "2026-03-01T00:00:00Z"
    assert [r["page"] for r in requests] == ["1", "2", "2", "3"]  # resumed at the failed page

    store = harness.store()
    try:
        assert store.cursors.get("t1", "pos-api", "orders") is None  # incremental untouched
        window = store.cursors.get("t1", "pos-api", "backfill:2026-02-01:2026-03-01:orders")
        assert window is not None and window["done"] is True
    finally:
        store.close()
    before = len(fake.requests_to("/api/orders"))
    assert _backfill(harness, date(2026, 2, 1), date(2026, 3, 1)) == ExitCode.OK
    assert len(fake.requests_to("/api/orders")) == before  # a finished window reads nothing

    report, _ = harness.run()  # the incremental sync overlaps the window: nothing twice
    assert report.exit_code == 0
    completed = _completed(admin)
    assert len(completed) == 15 and max(completed.values()) == 1
    assert {c["phone"] for c in admin.customers(WS_ONLINE)} >= {e164(21)}


def test_backfill_refuses_a_csv_source(harness: Harness) -> None:
    with pytest.raises(ConfigurationError, match="dropping the files"):
        asyncio.run(_refused(harness))


async def _refused(harness: Harness) -> None:
    store = harness.store()
    try:
        async with sticky_client(harness.settings) as sticky:
            await run_backfill(harness.settings, store, sticky, source_name="pos",
                               since=date(2026, 1, 1), until=date(2026, 2, 1))
    finally:
        store.close()
