"""The Shopify source against the Shopify fake and the Sticky sandbox, over real HTTP."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from sandbox.testing import SandboxAdmin
from tests.shopify_fake import Location, ShopifyFake
from tests.shopify_fake.server import RunningShopify
from tests.support import (
    SHOPIFY_TOKEN_ENV,
    WS_DOWNTOWN,
    WS_ONLINE,
    shopify_source,
)
from tests.sync.conftest import Harness


def _real_now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def _harness(make_harness: Callable[..., Harness], shop: RunningShopify,
             store: Location | None = None, **fields: object) -> Harness:
    workspaces = {str(store.id): WS_DOWNTOWN} if store is not None else {}
    return make_harness(sources=shopify_source(shop.base_url, **fields),
                        workspaces=workspaces)


def _filters(fake: ShopifyFake, operation: str) -> set[str]:
    """The ``query:`` filters sent with ``operation``."""
    return {str((r.variables or {}).get("q")) for r in fake.requests
            if operation in (r.query or "")}


def _events(admin: SandboxAdmin, kind: str | None = None) -> list[dict[str, Any]]:
    found = [e for ws in (WS_ONLINE, WS_DOWNTOWN) for e in admin.events(ws)]
    return [e for e in found if kind is None or e["type"] == kind]


def test_incremental_runs_send_each_order_and_refund_once(
        make_harness: Callable[..., Harness], admin: SandboxAdmin, fake: ShopifyFake,
        shop: RunningShopify) -> None:
    store = fake.add_location("Downtown")
    regular = fake.add_customer("Ada", "Lovelace", phone="+14155550123",
                                sms_state="SUBSCRIBED", sms_collected_from="SHOPIFY")
    online = fake.add_customer("Grace", "Hopper", phone="+15105550142",
                               sms_state="UNSUBSCRIBED")
    pos_order = fake.add_order(customer=regular, total="42.50", source_name="pos",
                               retail_location=store, line_items=[("fl-og-3.5g", 2)])
    fake.add_order(customer=online, total="19.99")
    fake.add_order(customer=None, total="5.00", phone=None, email=None)  # guest, no phone
    fake.add_order(customer=regular, total="7.00", test=True)
    h = _harness(make_harness, shop, store)

    report, _ = h.run()
    assert report.exit_code == 0, report.outcomes
    total = report.total
    assert total.events_sent["order.completed"] == 2
    assert total.skipped == {"no_phone": 1, "test_order": 1}
    [pos_event] = admin.events(WS_DOWNTOWN)  # POS order → the store's workspace
    assert (pos_event["type"], pos_event["amount_cents"]) == ("order.completed", 4250)
    assert [e["amount_cents"] for e in admin.events(WS_ONLINE)] == [1999]
    [ada] = [c for c in admin.customers(WS_DOWNTOWN) if c["phone"] == "+14155550123"]
    assert ada["consent"]["sms"] is True and ada["consent"]["source"] == "shopify:shopify"

    fake.set_now(_real_now() - timedelta(minutes=3))
    fake.add_refund(pos_order, "10.00")
    report, _ = h.run()
    assert report.total.events_sent == {"order.refunded": 1}
    assert [e["amount_cents"] for e in _events(admin, "order.refunded")] == [1000]
    assert len(_events(admin, "order.completed")) == 2
    report, _ = h.run()  # nothing new: nothing sent
    assert sum(report.total.events_sent.values()) == 0


def test_a_cancellation_after_delivery_takes_back_what_was_not_refunded(
        make_harness: Callable[..., Harness], admin: SandboxAdmin, fake: ShopifyFake,
        shop: RunningShopify) -> None:
    customer = fake.add_customer(phone="+14155550131")
    sent = fake.add_order(customer=customer, total="30.00")
    never_sent = fake.add_order(customer=customer, total="8.00")
    fake.cancel_order(never_sent)
    h = _harness(make_harness, shop)
    report, _ = h.run()
    assert report.total.events_sent == {"order.completed": 1}
    assert report.total.skipped["order_not_completed"] == 1
    assert report.total.skipped["cancelled_before_sent"] == 1
    fake.set_now(_real_now() - timedelta(minutes=3))
    fake.add_refund(sent, "12.00")
    fake.cancel_order(sent)
    h.run()
    assert sorted(e["amount_cents"] for e in _events(admin, "order.refunded")) == [1200, 1800]
    report, _ = h.run()
    assert sum(report.total.events_sent.values()) == 0


def test_an_order_updated_during_a_run_is_picked_up_by_the_next(
        make_harness: Callable[..., Harness], admin: SandboxAdmin, fake: ShopifyFake,
        shop: RunningShopify) -> None:
    customer = fake.add_customer(phone="+14155550132")
    fake.add_order(customer=customer, total="10.00")
    h = _harness(make_harness, shop, safety_margin="0s")
    # Stamped just after the next run starts: that run's window ends before it.
    fake.set_now(_real_now() + timedelta(seconds=2))
    late = fake.add_order(customer=customer, total="11.00")
    report, _ = h.run()
    assert report.total.events_sent == {"order.completed": 1}
    time.sleep(max(0.0, (late.updated_at - datetime.now(UTC)).total_seconds()) + 1.1)
    report, _ = h.run()
    assert report.total.events_sent == {"order.completed": 1}
    assert sorted(e["amount_cents"] for e in _events(admin)) == [1000, 1100]


def test_windows_use_quoted_timestamps_and_overlap_by_the_lookback(
        make_harness: Callable[..., Harness], fake: ShopifyFake,
        shop: RunningShopify) -> None:
    fake.add_order(customer=fake.add_customer(phone="+14155550133"), total="10.00")
    h = _harness(make_harness, shop, lookback="10m")
    h.run()
    first = [r for r in fake.requests if "OrdersDelta" in (r.query or "")]
    assert first and (first[0].variables or {}).get("q") is not None
    until = str((first[0].variables or {})["q"]).split("updated_at:<'")[1].rstrip("'")
    fake.clear_requests()
    h.run()
    [query] = _filters(fake, "OrdersDelta")
    since = (datetime.fromisoformat(until.replace("Z", "+00:00")) - timedelta(minutes=10))
    assert query.startswith(f"updated_at:>='{since:%Y-%m-%dT%H:%M:%SZ}' AND updated_at:<'")
    customers = _filters(fake, "CustomersDelta")
    day_before = since + timedelta(minutes=10) - timedelta(days=1)
    assert customers == {f"updated_at:>='{day_before:%Y-%m-%dT%H:%M:%SZ}'"}


@pytest.mark.parametrize("status", [200, 429])
def test_throttling_in_either_shape_slows_the_run_without_failures(
        make_harness: Callable[..., Harness], admin: SandboxAdmin, fake: ShopifyFake,
        shop: RunningShopify, status: int) -> None:
    fake.throttle_status = status
    fake.maximum_available = 1000.0
    fake.restore_rate = 1000.0
    customers = [fake.add_customer(phone=f"+1415555{100 + i:04d}") for i in range(40)]
    for i in range(120):
        fake.add_order(customer=customers[i % 40], total=f"{i + 1}.00")
    fake.set_currently_available(0)
    h = _harness(make_harness, shop, page_size=20)
    report, _ = h.run()
    assert report.exit_code == 0
    assert report.total.events_sent == {"order.completed": 120}
    throttled = [r for r in fake.requests if r.throttled]
    assert throttled and {r.status for r in throttled} == {status}


def test_a_missing_read_all_orders_scope_is_reported(
        make_harness: Callable[..., Harness], fake: ShopifyFake, shop: RunningShopify) -> None:
    h = _harness(make_harness, shop)
    report, _ = h.run()
    assert "shopify_read_all_orders_missing" not in report.total.warnings
    fake.drop_scope("read_all_orders")
    report, _ = h.run()
    assert report.exit_code == 0
    assert report.total.warnings["shopify_read_all_orders_missing"] == 1


def test_a_refused_token_aborts_the_run_without_moving_the_cursor(
        make_harness: Callable[..., Harness], fake: ShopifyFake, shop: RunningShopify,
        monkeypatch: pytest.MonkeyPatch) -> None:
    h = _harness(make_harness, shop)
    monkeypatch.setenv(SHOPIFY_TOKEN_ENV, "shpat_wrong")
    report, _ = h.run()
    assert report.exit_code == 4
    assert "access token" in (report.outcomes[0].error or "")
    store = h.store()
    try:
        assert store.cursors.all_for("t1", "shopify") == {}
    finally:
        store.close()


def test_the_learned_page_size_is_kept_in_the_state_db_for_the_next_run(
        make_harness: Callable[..., Harness], fake: ShopifyFake, shop: RunningShopify) -> None:
    customer = fake.add_customer(phone="+14155550134")
    for n in range(9):
        fake.add_order(customer=customer, total=f"{n + 10}.00")
    h = _harness(make_harness, shop)  # page_size 50: orders at 50 cost 5902

    def cost_exceeded() -> int:
        return sum("MAX_COST_EXCEEDED" in r.error_codes for r in fake.requests)

    report, _ = h.run()
    assert report.exit_code == 0 and report.total.events_sent == {"order.completed": 9}
    assert cost_exceeded() == 3  # 50, 25 and 12 refused; 6 fits, then 7
    store = h.store()
    try:
        assert store.cursors.get("t1", "shopify", "tuning") == {
            "page_size": {"customers": 250, "orders": 7}}
    finally:
        store.close()

    fake.clear_requests()
    report, _ = h.run()
    assert report.exit_code == 0
    assert cost_exceeded() == 0
    assert [(r.variables or {}).get("first") for r in fake.requests
            if "OrdersDelta" in (r.query or "")] == [7]
