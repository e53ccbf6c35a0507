"""Edges of the delivery core found by a hostile review (each test failed before its fix):
content that returns to an earlier version, a refund held behind a refused order, an
order whose store is mapped after it was delivered, a poison payload alone in its
workspace, an order sent under a refused customer update, a customer changed while its
create is in flight."""

from __future__ import annotations

from collections.abc import Callable

from sandbox.testing import SandboxAdmin
from tests.support import (
    CUSTOMER_HEADER,
    ORDER_HEADER,
    REFUND_HEADER,
    WS_DOWNTOWN,
    WS_EASTSIDE,
    WS_ONLINE,
    drop_file,
    e164,
    phone,
)
from tests.sync.conftest import Harness


def _issues(harness: Harness) -> dict[str | None, tuple[str, str]]:
    store = harness.store()
    try:
        return {i.record_id: (i.disposition, i.reason) for i in store.issues.find()}
    finally:
        store.close()


def test_customer_content_back_to_an_earlier_version_reaches_sticky(
        harness: Harness, admin: SandboxAdmin) -> None:
    """a → b → a over three runs: the third request goes under a key of its own (under
    the first one's, Sticky replays that answer and keeps b)."""
    for n, email in enumerate(["a@example.com", "b@example.com", "a@example.com"]):
        drop_file(harness.drop, f"customers_{n}.csv", CUSTOMER_HEADER, [
            ["C1", phone(1), email, "Sam", "", "", "", "", "", "001",
             f"2026-10-0{n + 1} 10:00:00"]])
        report, _ = harness.run()
        assert report.exit_code == 0
        [customer] = admin.customers(WS_DOWNTOWN)
        assert customer["email"] == email, n


def test_a_refund_held_behind_a_refused_order_is_replayed_once_the_order_is_delivered(
        harness: Harness, admin: SandboxAdmin) -> None:
    """Automatically, without a person (its row stays pending, not refused)."""
    admin.set_faults(refuse_amounts=[1000], latency_ms=150)  # R1 planned while O1 in flight
    drop_file(harness.drop, "customers_1.csv", CUSTOMER_HEADER, [
        ["C1", phone(1), "", "", "", "", "", "", "", "001", ""]])
    drop_file(harness.drop, "orders_1.csv", ORDER_HEADER, [
        ["O1", "C1", "", "001", "2026-11-01T10:00:00Z", "10.00", "", ""]])
    drop_file(harness.drop, "refunds_1.csv", REFUND_HEADER, [
        ["R1", "O1", "2026-11-02T10:00:00Z", "4.00"]])
    harness.run()
    assert _issues(harness)["R1"] == ("quarantined", "unknown_order")

    admin.set_faults(refuse_amounts=[], latency_ms=0)  # corrected at the source, accepted
    drop_file(harness.drop, "orders_2.csv", ORDER_HEADER, [
        ["O1", "C1", "", "001", "2026-11-01T10:00:00Z", "10.00", "sku-a:1", ""]])
    harness.run()  # O1 delivered, then the due R1 replayed
    harness.run()
    events = sorted((e["type"], e["amount_cents"]) for e in admin.events(WS_DOWNTOWN))
    assert events == [("order.completed", 1000), ("order.refunded", 400)], _issues(harness)


def test_an_order_stays_in_its_first_workspace_when_its_store_gets_mapped(
        make_harness: Callable[..., Harness], admin: SandboxAdmin) -> None:
    harness = make_harness()
    drop_file(harness.drop, "customers_1.csv", CUSTOMER_HEADER, [
        ["C1", phone(1), "", "", "", "", "", "", "", "001", ""]])
    drop_file(harness.drop, "orders_1.csv", ORDER_HEADER, [
        ["O1", "C1", "", "003", "2026-11-01T10:00:00Z", "10.00", "", ""]])
    harness.run()  # store 003 unmapped: O1 goes to the default workspace
    assert [e["amount_cents"] for e in admin.events(WS_ONLINE)] == [1000]

    harness = make_harness(workspaces={"003": WS_EASTSIDE})  # the store is mapped now
    drop_file(harness.drop, "orders_2.csv", ORDER_HEADER, [  # an overlapping export
        ["O1", "C1", "", "003", "2026-11-01T10:00:00Z", "10.00", "", ""],
        ["O2", "C1", "", "003", "2026-11-02T10:00:00Z", "5.00", "", ""]])
    harness.run()
    assert [e["amount_cents"] for e in admin.events(WS_ONLINE)] == [1000]
    assert [e["amount_cents"] for e in admin.events(WS_EASTSIDE)] == [500]


def test_a_poison_customer_alone_in_its_workspace_is_given_up_not_an_outage(
        make_harness: Callable[..., Harness], admin: SandboxAdmin) -> None:
    """Sticky accepts in another workspace: the one payload that always fails is
    quarantined and the files are checkpointed, instead of every run stopping."""
    harness = make_harness(sticky={"max_attempts": 2, "retry_budget_seconds": 5})
    admin.set_faults(fail_phones=[e164(2)])
    drop_file(harness.drop, "customers_1.csv", CUSTOMER_HEADER, [
        ["C1", phone(1), "", "", "", "", "", "", "", "001", ""],
        ["C2", phone(2), "", "", "", "", "", "", "", "002", ""]])  # eastside's only payload
    drop_file(harness.drop, "orders_1.csv", ORDER_HEADER, [
        ["O1", "C1", "", "001", "2026-11-01T10:00:00Z", "10.00", "", ""]])
    report, _ = harness.run()
    assert report.exit_code == 1  # needs attention: C2 quarantined
    assert report.total.quarantined["retries_exhausted"] == 1
    assert [e["amount_cents"] for e in admin.events(WS_DOWNTOWN)] == [1000]
    again, _ = harness.run()
    assert again.total.records_read == 0  # checkpointed: nothing read twice


def test_an_order_sent_under_a_refused_customer_update_is_delivered(
        harness: Harness, admin: SandboxAdmin) -> None:
    """The customer exists at Sticky, which refuses its update: the order goes out under
    the known id and is reported delivered; the customer's row carries the refusal."""
    drop_file(harness.drop, "customers_1.csv", CUSTOMER_HEADER, [
        ["C1", phone(1), "a@example.com", "", "", "", "", "", "", "001",
         "2026-10-01 10:00:00"]])
    assert harness.run()[0].exit_code == 0
    admin.set_faults(refuse_phones=[e164(1)])
    drop_file(harness.drop, "customers_2.csv", CUSTOMER_HEADER, [
        ["C1", phone(1), "b@example.com", "", "", "", "", "", "", "001",
         "2026-10-02 10:00:00"]])
    drop_file(harness.drop, "orders_2.csv", ORDER_HEADER, [
        ["O1", "C1", "", "001", "2026-11-01T10:00:00Z", "10.00", "", ""]])
    report, _ = harness.run()
    assert [e["amount_cents"] for e in admin.events(WS_DOWNTOWN)] == [1000]
    issues = _issues(harness)
    assert "O1" not in issues
    assert "C1" in issues
    assert report.total.events_sent["order.completed"] == 1


def test_a_customer_changed_while_its_create_is_in_flight_is_created_once(
        make_harness: Callable[..., Harness], admin: SandboxAdmin) -> None:
    harness = make_harness(batch_size=1)
    admin.set_faults(latency_ms=300)  # batch 2 is planned while batch 1's create is out
    drop_file(harness.drop, "customers_1.csv", CUSTOMER_HEADER, [
        ["C1", phone(1), "a@example.com", "Sam", "", "", "", "", "", "001",
         "2026-10-01 10:00:00"],
        ["C1", phone(1), "b@example.com", "Sam", "", "", "", "", "", "001",
         "2026-10-02 10:00:00"]])
    report, _ = harness.run()
    assert report.exit_code == 0
    [customer] = admin.customers(WS_DOWNTOWN)
    assert customer["email"] == "b@example.com"
    total = report.total
    assert (total.customers_created, total.customers_updated) == (1, 1)
