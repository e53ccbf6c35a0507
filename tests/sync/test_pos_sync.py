"""A described POS through the whole engine (GenericPos → sandbox): each refund shape
yields exactly one order.refunded per refund, and re-reading a changed sale sends no
money twice."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from sandbox.testing import SandboxAdmin
from tests.pos_fake import GenericPos, running_pos
from tests.pos_fake.server import RunningPos
from tests.support import WS_ONLINE, pos_source
from tests.sync.conftest import Harness

SPEC = """
name = "generic"
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
size = 50
[streams.orders.incremental]
param = "updated_since"
field = "updated_at"
lookback = "1h"
[streams.orders.fields]
order_id = "id"
phone = "phone"
completed_at = "closed_at"
total = {{ path = "total_cents", cents = true }}
[streams.orders.skip_when]
voided = ["true"]
[[streams.orders.refunds]]
{refund}
"""

SHAPES = {
    "separate": 'shape = "separate"\nwhen = { kind = ["return"] }\noriginal = "original_id"\n'
                'amount = { path = "total_cents", cents = true }',
    "status": 'shape = "status"\nwhen = { refund_status = ["partial", "full"] }\n'
              'amount = { path = "refunded_cents", cents = true }',
    "items": 'shape = "items"\nitems = "lines"\nwhen = { status = ["refunded"] }\n'
             'id = "line_id"\namount = { path = "refund_cents", cents = true }',
}


def sale(order_id: str, total: int, updated: str, **extra: Any) -> dict[str, Any]:
    return {"id": order_id, "phone": "(415) 555-0142", "closed_at": "2026-05-01T10:00:00Z",
            "total_cents": total, "updated_at": updated, "kind": "sale", **extra}


@pytest.fixture
def pos(monkeypatch: pytest.MonkeyPatch) -> Iterator[RunningPos]:
    monkeypatch.setenv("POS_TEST_TOKEN", "test-token")
    with running_pos(GenericPos(pagination="page", page_size=50)) as running:
        yield running


def _harness(make_harness: Callable[..., Harness], tmp_path: Path, pos: RunningPos,
             shape: str) -> Harness:
    spec = tmp_path / "spec" / "generic.toml"
    spec.parent.mkdir()
    spec.write_text(SPEC.format(refund=SHAPES[shape]), encoding="utf-8")
    return make_harness(sources=pos_source(spec, pos.base_url))


def refunded(admin: SandboxAdmin) -> list[int]:
    return [e["amount_cents"] for e in admin.events(WS_ONLINE) if e["type"] == "order.refunded"]


def test_separate_return_transactions(make_harness: Callable[..., Harness], tmp_path: Path,
                                      pos: RunningPos, admin: SandboxAdmin) -> None:
    fake = pos.fake
    assert isinstance(fake, GenericPos)
    fake.add_order(sale("S1", 5000, "2026-05-01T10:00:00Z"))
    fake.add_order(sale("R1", -2000, "2026-05-01T11:00:00Z", kind="return",
                        original_id="S1"))
    h = _harness(make_harness, tmp_path, pos, "separate")
    report, _ = h.run()
    assert report.total.events_sent == {"order.completed": 1, "order.refunded": 1}
    fake.update("orders", "id", "S1", updated_at="2026-05-01T12:00:00Z", note="edited")
    report, _ = h.run()
    assert sum(report.total.events_sent.values()) == 0
    assert refunded(admin) == [2000]


def test_a_refunded_total_on_the_sale(make_harness: Callable[..., Harness], tmp_path: Path,
                                      pos: RunningPos, admin: SandboxAdmin) -> None:
    fake = pos.fake
    assert isinstance(fake, GenericPos)
    fake.add_order(sale("S1", 5000, "2026-05-01T10:00:00Z"))
    h = _harness(make_harness, tmp_path, pos, "status")
    h.run()
    fake.update("orders", "id", "S1", updated_at="2026-05-01T11:00:00Z",
                refund_status="partial", refunded_cents=2000)
    h.run()
    h.run()  # the same partial state read again: nothing new
    fake.update("orders", "id", "S1", updated_at="2026-05-01T12:00:00Z",
                refund_status="full", refunded_cents=5000)
    h.run()
    report, _ = h.run()
    assert sum(report.total.events_sent.values()) == 0
    assert refunded(admin) == [2000, 3000]  # the partial, then only the rest


def test_refunded_line_items(make_harness: Callable[..., Harness], tmp_path: Path,
                             pos: RunningPos, admin: SandboxAdmin) -> None:
    fake = pos.fake
    assert isinstance(fake, GenericPos)
    fake.add_order(sale("S1", 5000, "2026-05-01T10:00:00Z", lines=[
        {"line_id": "L1", "status": "sold"},
        {"line_id": "L2", "status": "refunded", "refund_cents": 1500}]))
    h = _harness(make_harness, tmp_path, pos, "items")
    h.run()
    fake.update("orders", "id", "S1", updated_at="2026-05-01T11:00:00Z", lines=[
        {"line_id": "L1", "status": "refunded", "refund_cents": 1000},
        {"line_id": "L2", "status": "refunded", "refund_cents": 1500}])
    h.run()
    h.run()
    assert sorted(refunded(admin)) == [1000, 1500]


def test_a_void_after_delivery_takes_the_sale_back(make_harness: Callable[..., Harness],
                                                  tmp_path: Path, pos: RunningPos,
                                                  admin: SandboxAdmin) -> None:
    fake = pos.fake
    assert isinstance(fake, GenericPos)
    fake.add_order(sale("S1", 5000, "2026-05-01T10:00:00Z"))
    fake.add_order(sale("S2", 700, "2026-05-01T10:00:00Z", voided=True))  # never sent
    h = _harness(make_harness, tmp_path, pos, "separate")
    report, _ = h.run()
    assert report.total.skipped == {"order_not_completed": 1, "cancelled_before_sent": 1}
    fake.update("orders", "id", "S1", updated_at="2026-05-01T11:00:00Z", voided=True)
    h.run()
    h.run()
    assert refunded(admin) == [5000]
