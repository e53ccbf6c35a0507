"""Quarantine and replay over a real sandbox: `dlq list/show/retry/discard`, automatic
replay of records whose cause clears by itself, and a corrected copy replacing the
quarantined one."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from typer.testing import CliRunner

from connector.cli import app
from connector.sync.replay import next_retry_at
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

runner = CliRunner()


def _customers_and_orders(harness: Harness) -> None:
    drop_file(harness.drop, "customers_1.csv", CUSTOMER_HEADER, [
        ["C1", phone(1), "c1@example.com", "", "", "", "", "", "", "001", ""],
        ["C2", phone(2), "c2@example.com", "", "", "", "", "", "", "001", ""]])
    drop_file(harness.drop, "orders_1.csv", ORDER_HEADER, [
        ["O1", "C1", "", "001", "2026-11-01T10:00:00Z", "10.00", "", ""],
        ["O2", "C2", "", "001", "2026-11-01T11:00:00Z", "20.00", "", ""]])


def _cli(harness: Harness, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, [*args, "--config", str(harness.root / "config.toml")])
    return result.exit_code, result.stdout


def test_retry_after_the_cause_is_fixed_delivers_each_record_once(
        harness: Harness, admin: SandboxAdmin) -> None:
    admin.set_faults(refuse_phones=[e164(2)])
    _customers_and_orders(harness)
    code, out = _cli(harness, "run", "--json")
    assert code == 1, out
    # the order waits with its customer's reason (refused now, or earlier when its file
    # is planned after the customer's refusal)
    quarantined = json.loads(out)["total"]["quarantined"]
    assert sum(quarantined.values()) == 2 and quarantined["phone_refused"] >= 1

    code, out = _cli(harness, "dlq", "list", "--json")
    listed = json.loads(out)
    assert code == 0
    assert sorted(i["record"] for i in listed) == ["customer C2", "order O2"]
    assert "c2@example.com" not in out and "4155550102" not in out
    customer_issue = next(i for i in listed if i["record"] == "customer C2")
    code, out = _cli(harness, "dlq", "show", str(customer_issue["id"]))
    shown = json.loads(out)
    assert shown["field"] == "phone" and "phone_refused" in shown["message"]
    assert shown["stored_record"]["customer_id"] == "C2"
    assert "c2@example.com" not in out and "555-0102" not in out

    # Still refused: the retry fails again, the records stay quarantined, counted once more
    code, out = _cli(harness, "dlq", "retry", "--all", "--json")
    assert code == 1, out
    assert len(json.loads(out)["still_quarantined"]) == 2
    assert all(i["attempts"] == 1 for i in json.loads(_cli(harness, "dlq", "list",
                                                           "--json")[1]))

    admin.set_faults(refuse_phones=[])  # the cause is fixed
    code, out = _cli(harness, "dlq", "retry", "--all", "--json")
    assert code == 0, out
    assert json.loads(out)["delivered"] == 2
    phones = [c["phone"] for c in admin.customers(WS_DOWNTOWN)]
    assert sorted(phones) == [e164(1), e164(2)]
    events = admin.events(WS_DOWNTOWN)
    assert sorted(e["amount_cents"] for e in events) == [1000, 2000]

    # nothing left; retrying or running again sends nothing
    assert json.loads(_cli(harness, "dlq", "list", "--json")[1]) == []
    before = admin.stats()
    code, out = _cli(harness, "dlq", "retry", "--all")
    assert code == 0 and "nothing to retry" in out
    code, _ = _cli(harness, "run")
    assert code == 0
    assert len(admin.events(WS_DOWNTOWN)) == 2 and len(admin.customers(WS_DOWNTOWN)) == 2
    assert admin.stats() == before
    history = json.loads(_cli(harness, "dlq", "list", "--resolved", "--json")[1])
    assert sorted(i["resolution"] for i in history) == ["delivered", "delivered"]


def test_an_order_waiting_for_its_customer_is_replayed_after_the_customer_arrives(
        harness: Harness, admin: SandboxAdmin) -> None:
    drop_file(harness.drop, "orders_1.csv", ORDER_HEADER, [
        ["O9", "C9", "", "001", "2026-11-01T10:00:00Z", "9.00", "", ""]])
    report, _ = harness.run()
    assert dict(report.total.quarantined) == {"unknown_customer": 1}
    drop_file(harness.drop, "customers_2.csv", CUSTOMER_HEADER, [
        ["C9", phone(9), "", "", "", "", "", "", "", "001", ""]])
    report, _ = harness.run()  # reads the customer, then replays the waiting order
    assert report.exit_code == 0
    assert [e["amount_cents"] for e in admin.events(WS_DOWNTOWN)] == [900]
    store = harness.store()
    try:
        assert store.issues.find() == []
        [done] = store.issues.find(include_resolved=True)
        assert done.resolution == "delivered" and done.attempts == 1
    finally:
        store.close()
    harness.run()
    assert len(admin.events(WS_DOWNTOWN)) == 1


def test_automatic_replays_back_off_and_stop_at_refusals(harness: Harness) -> None:
    drop_file(harness.drop, "orders_1.csv", ORDER_HEADER, [
        ["O9", "C9", "", "001", "2026-11-01T10:00:00Z", "9.00", "", ""]])
    harness.run()
    harness.run()  # replayed once, still unknown: next try in 5 minutes
    store = harness.store()
    try:
        [issue] = store.issues.find()
        assert issue.attempts == 1 and issue.reason == "unknown_customer"
        assert issue.next_retry_at is not None
        expected = next_retry_at(1, datetime.now(UTC))
        assert abs(issue.next_retry_at - expected) < timedelta(seconds=30)
    finally:
        store.close()
    harness.run()  # not due yet: no replay
    store = harness.store()
    try:
        assert store.issues.find()[0].attempts == 1
    finally:
        store.close()
    assert next_retry_at(3) - datetime.now(UTC) > timedelta(minutes=19)
    assert next_retry_at(30) - datetime.now(UTC) <= timedelta(hours=6)


def test_a_corrected_row_in_a_later_file_replaces_the_quarantined_one(
        harness: Harness, admin: SandboxAdmin) -> None:
    admin.set_faults(refuse_phones=[e164(2)])
    drop_file(harness.drop, "customers_1.csv", CUSTOMER_HEADER, [
        ["C2", phone(2), "", "", "", "", "", "", "", "001", ""]])
    harness.run()
    drop_file(harness.drop, "customers_2.csv", CUSTOMER_HEADER, [
        ["C2", phone(3), "", "", "", "", "", "", "", "001", ""]])  # fixed at the source
    report, _ = harness.run()
    assert report.exit_code == 0
    store = harness.store()
    try:
        assert store.issues.find() == []
        [old] = store.issues.find(include_resolved=True)
        assert old.resolution == "superseded"
    finally:
        store.close()
    assert [c["phone"] for c in admin.customers(WS_DOWNTOWN)] == [e164(3)]


def test_discard_and_selection_errors(harness: Harness, admin: SandboxAdmin) -> None:
    admin.set_faults(refuse_phones=[e164(2)])
    _customers_and_orders(harness)
    harness.run()
    code, out = _cli(harness, "dlq", "retry")
    assert code == 2  # no selection
    code, out = _cli(harness, "dlq", "retry", "999999")
    assert code == 2
    listed = json.loads(_cli(harness, "dlq", "list", "--json")[1])
    order = next(i["id"] for i in listed if i["record"] == "order O2")
    code, out = _cli(harness, "dlq", "discard", str(order))
    assert code == 0 and "discarded 1" in out
    remaining = json.loads(_cli(harness, "dlq", "list", "--json")[1])
    assert [i["record"] for i in remaining] == ["customer C2"]
    code, out = _cli(harness, "dlq", "discard", "--all")
    assert code == 0 and "discarded 1" in out
    assert json.loads(_cli(harness, "dlq", "list", "--json")[1]) == []
    code, out = _cli(harness, "dlq", "show", "999999")
    assert code == 2


def test_rejected_records_can_be_listed_and_shown(harness: Harness) -> None:
    drop_file(harness.drop, "customers_1.csv", CUSTOMER_HEADER, [
        ["C1", "555-1212", "", "", "", "", "", "", "", "001", ""],
        ["C2", phone(2), "", "", "", "", "", "", "", "001", ""]])
    harness.run()
    assert json.loads(_cli(harness, "dlq", "list", "--json")[1]) == []  # none quarantined
    code, out = _cli(harness, "dlq", "list", "--disposition", "rejected", "--json")
    [rejected] = json.loads(out)
    assert code == 0 and rejected["record"] == "customer C1"
    code, out = _cli(harness, "dlq", "show", str(rejected["id"]))
    shown = json.loads(out)
    assert shown["disposition"] == "rejected" and shown["field"] == "phone"
    assert shown["stored_record"] is None  # nothing to replay: fix it at the source
    code, _ = _cli(harness, "dlq", "retry", str(rejected["id"]))
    assert code == 2  # not in the quarantine
    assert _cli(harness, "dlq", "list", "--disposition", "bogus")[0] == 2


def test_a_poison_record_is_given_up_while_the_rest_is_delivered(
        make_harness: Callable[..., Harness], admin: SandboxAdmin) -> None:
    harness = make_harness(sticky={"max_attempts": 2, "retry_budget_seconds": 5})
    admin.set_faults(fail_phones=[e164(2)])
    _customers_and_orders(harness)
    drop_file(harness.drop, "refunds_1.csv", REFUND_HEADER, [
        ["R2", "O2", "2026-11-02T10:00:00Z", "5.00"]])
    report, _ = harness.run()
    assert report.exit_code == 1  # not 4: the target answered the others
    assert sum(report.total.quarantined.values()) == 3  # C2, its order, and O2's refund
    assert [c["phone"] for c in admin.customers(WS_DOWNTOWN)] == [e164(1)]
    assert [e["amount_cents"] for e in admin.events(WS_DOWNTOWN)] == [1000]

    store = harness.store()
    try:
        reasons = {i.record_id: i.reason for i in store.issues.find()}
    finally:
        store.close()
    assert reasons["C2"] == "retries_exhausted" and reasons["O2"] == "retries_exhausted"
    assert reasons["R2"] in {"retries_exhausted", "unknown_order"}

    admin.set_faults(fail_phones=[])  # the target recovers: the next run replays them
    report, _ = harness.run()
    assert report.exit_code == 0
    events = admin.events(WS_DOWNTOWN)
    assert sorted(e["amount_cents"] for e in events if e["type"] == "order.completed") == [
        1000, 2000]
    assert [e["amount_cents"] for e in events if e["type"] == "order.refunded"] == [500]
    assert len(admin.customers(WS_DOWNTOWN)) == 2
    assert json.loads(_cli(harness, "dlq", "list", "--json")[1]) == []


def test_a_refund_of_an_order_sticky_refused_is_held_then_follows_the_order(
        harness: Harness, admin: SandboxAdmin) -> None:
    _customers_and_orders(harness)
    drop_file(harness.drop, "refunds_1.csv", REFUND_HEADER, [
        ["R1", "O1", "2026-11-02T10:00:00Z", "4.00"],
        ["R2", "O2", "2026-11-02T11:00:00Z", "5.00"]])
    admin.set_faults(refuse_amounts=[1000])  # Sticky refuses order O1 (10.00), only it
    code, _ = _cli(harness, "run")
    assert code == 1
    events = admin.events(WS_DOWNTOWN)
    assert sorted((e["type"], e["amount_cents"]) for e in events) == [
        ("order.completed", 2000), ("order.refunded", 500)]  # O1's refund was not sent
    store = harness.store()
    try:
        [held] = store.issues.find(reason="unknown_order")
        assert "refund pos:R1: its order pos:O1 was refused by Sticky" in held.message
    finally:
        store.close()
    admin.set_faults(refuse_amounts=[])  # the cause is fixed: the order, then its refund
    assert _cli(harness, "dlq", "retry", "--all")[0] == 0
    events = admin.events(WS_DOWNTOWN)
    assert sorted((e["type"], e["amount_cents"]) for e in events) == [
        ("order.completed", 1000), ("order.completed", 2000),
        ("order.refunded", 400), ("order.refunded", 500)]
