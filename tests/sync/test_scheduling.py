"""Per-payload dependencies over a real sandbox: a payload waits for its own customer (and
a refund for its order), never for a phase or a batch boundary (connector/sync/sender.py)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sandbox.testing import SandboxAdmin
from tests.support import (
    CUSTOMER_HEADER,
    ORDER_HEADER,
    REFUND_HEADER,
    WS_DOWNTOWN,
    drop_file,
    e164,
    phone,
)
from tests.sync.conftest import Harness


def _at(item: dict[str, object]) -> datetime:
    return datetime.fromisoformat(str(item["created_at"]).replace("Z", "+00:00"))


def test_a_slow_customer_holds_up_its_own_events_and_nothing_else(
        harness: Harness, admin: SandboxAdmin) -> None:
    # three files, three batches: customers, then orders, then refunds
    drop_file(harness.drop, "customers_1.csv", CUSTOMER_HEADER, [
        [f"C{i}", phone(i), "", "", "", "", "", "", "", "001", ""] for i in range(1, 7)])
    drop_file(harness.drop, "orders_1.csv", ORDER_HEADER, [
        [f"O{i}", f"C{i}", "", "001", "2026-11-01T10:00:00Z", f"{i}0.00", "", ""]
        for i in range(1, 7)])
    drop_file(harness.drop, "refunds_1.csv", REFUND_HEADER, [
        ["R1", "O1", "2026-11-02T10:00:00Z", "1.00"],
        ["R2", "O2", "2026-11-02T10:00:00Z", "2.00"]])
    admin.set_faults(slow_phones=[e164(1)], slow_seconds=2.5)  # the sandbox stamps seconds

    report, _ = harness.run()

    assert report.outcome == "ok"
    customers = {c["phone"]: c for c in admin.customers(WS_DOWNTOWN)}
    events = admin.events(WS_DOWNTOWN)
    orders = {e["amount_cents"]: e for e in events if e["type"] == "order.completed"}
    refunds = {e["amount_cents"]: e for e in events if e["type"] == "order.refunded"}
    slow = _at(customers[e164(1)])
    assert len(orders) == 6 and len(refunds) == 2
    # the other customers' orders (next batch) and O2's refund (the batch after) went
    # out while C1 was still being answered ...
    assert all(_at(orders[i * 1000]) < slow for i in range(2, 7))
    assert _at(refunds[200]) < slow
    # ... and C1's order followed C1, its refund followed its order
    assert _at(orders[1000]) >= slow
    assert _at(refunds[100]) >= _at(orders[1000])
    assert orders[1000]["customer_id"] == customers[e164(1)]["id"]


def test_a_customer_planned_again_while_on_its_way_is_sent_once(
        harness: Harness, admin: SandboxAdmin) -> None:
    # C1's row comes twice, in two batches (two files): the second plan is made while
    # the first request is still being answered, and follows it instead of racing it
    row = ["C1", phone(1), "", "", "", "", "", "", "", "001", ""]
    drop_file(harness.drop, "customers_1.csv", CUSTOMER_HEADER, [row])
    drop_file(harness.drop, "customers_2.csv", CUSTOMER_HEADER, [row])
    admin.set_faults(slow_phones=[e164(1)], slow_seconds=1.0)

    report, _ = harness.run()

    assert report.outcome == "ok"
    assert admin.workspace_stats(WS_DOWNTOWN).get("requests", 0) == 1
    assert len(admin.customers(WS_DOWNTOWN)) == 1


def test_an_order_changed_while_its_first_send_is_on_its_way_is_sent_once(
        harness: Harness, admin: SandboxAdmin) -> None:
    # O1 comes again, corrected, in the next file: planned while the first O1 still
    # waits for its (slow) customer. Events are immutable: the first one stands.
    drop_file(harness.drop, "customers_1.csv", CUSTOMER_HEADER, [
        ["C1", phone(1), "", "", "", "", "", "", "", "001", ""]])
    drop_file(harness.drop, "orders_1.csv", ORDER_HEADER, [
        ["O1", "C1", "", "001", "2026-11-01T10:00:00Z", "10.00", "", ""]])
    drop_file(harness.drop, "orders_2.csv", ORDER_HEADER, [
        ["O1", "C1", "", "001", "2026-11-01T10:00:00Z", "12.00", "", ""]])
    admin.set_faults(slow_phones=[e164(1)], slow_seconds=1.0)

    report, _ = harness.run()

    assert report.outcome == "ok"
    assert [e["amount_cents"] for e in admin.events(WS_DOWNTOWN)] == [1000]


def test_an_order_changed_after_a_run_died_with_it_in_flight_is_sent_once(
        make_harness: Callable[..., Harness], admin: SandboxAdmin) -> None:
    harness = make_harness(sticky={"max_attempts": 1, "retry_budget_seconds": 5})
    drop_file(harness.drop, "customers_1.csv", CUSTOMER_HEADER, [
        ["C1", phone(1), "", "", "", "", "", "", "", "001", ""]])
    assert harness.run()[0].outcome == "ok"
    # Run 1: Sticky records O1 but its answer is lost (as when a run dies with it in
    # flight): O1 stays pending in the ledger, yet Sticky holds it.
    drop_file(harness.drop, "orders_1.csv", ORDER_HEADER, [
        ["O1", "C1", "", "001", "2026-11-01T10:00:00Z", "10.00", "", ""]])
    admin.set_faults(drop_rate=1.0, drop_mode="after")
    first, _ = harness.run()
    assert first.outcome == "failed"
    assert [e["amount_cents"] for e in admin.events(WS_DOWNTOWN)] == [1000]
    admin.set_faults(drop_rate=0.0)
    # the source then corrects the order; the first version may have been delivered
    (harness.drop / "orders_1.csv").unlink()
    drop_file(harness.drop, "orders_2.csv", ORDER_HEADER, [
        ["O1", "C1", "", "001", "2026-11-01T10:00:00Z", "12.00", "", ""]])

    second, _ = harness.run()

    assert second.outcome == "ok"
    # events are immutable at Sticky: the version sent first stands, once
    assert [e["amount_cents"] for e in admin.events(WS_DOWNTOWN)] == [1000]
