"""CSV drop → Sticky sandbox, over real HTTP, with a real SQLite state file."""

from __future__ import annotations

import csv

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


def customers(n: int, store: str = "001") -> list[list[object]]:
    return [[f"C{i}", phone(i), f"Person{i}@Example.com", f"P{i}", "Last", "", "", "", "",
             store, "2026-10-01 10:00:00"] for i in range(1, n + 1)]


def test_first_run_creates_customers_then_their_events(harness: Harness,
                                                       admin: SandboxAdmin) -> None:
    drop_file(harness.drop, "customers_1.csv", CUSTOMER_HEADER, customers(3))
    drop_file(harness.drop, "orders_1.csv", ORDER_HEADER, [
        ["O1", "C1", "", "001", "2026-11-01 10:00", "$1,299.50", "sku-a:2;sku-b:1", "completed"],
        ["O2", "C2", "", "001", "2026-11-01 11:00", "12.00", "", ""],
    ])
    report, traffic = harness.run()

    assert report.exit_code == 0
    stored = {c["phone"]: c for c in admin.customers(WS_DOWNTOWN)}
    assert set(stored) == {e164(1), e164(2), e164(3)}
    assert stored[e164(1)]["email"] == "person1@example.com"
    events = admin.events(WS_DOWNTOWN)
    assert sorted((e["amount_cents"], e["customer_id"]) for e in events) == sorted([
        (129950, stored[e164(1)]["id"]), (1200, stored[e164(2)]["id"])])
    first = next(e for e in events if e["amount_cents"] == 129950)
    assert first["items"] == [{"sku": "sku-a", "qty": 2}, {"sku": "sku-b", "qty": 1}]
    assert report.total.customers_created == 3
    assert report.total.events_sent["order.completed"] == 2
    assert traffic.by_workspace[WS_DOWNTOWN].rate_limited == 0
    assert sorted(p.name for p in (harness.drop / "processed").iterdir()) == [
        "customers_1.csv", "orders_1.csv"]


def test_rerun_over_the_same_files_sends_nothing(harness: Harness, admin: SandboxAdmin) -> None:
    rows = customers(5)
    orders = [[f"O{i}", f"C{i}", "", "001", "", "10.00", "", ""] for i in range(1, 6)]
    drop_file(harness.drop, "customers_a.csv", CUSTOMER_HEADER, rows)
    drop_file(harness.drop, "orders_a.csv", ORDER_HEADER, orders)
    harness.run()
    before = admin.stats()["totals"]["requests"]

    # the same content again, under the same and under new names
    drop_file(harness.drop, "customers_a.csv", CUSTOMER_HEADER, rows)
    drop_file(harness.drop, "customers_b.csv", CUSTOMER_HEADER, rows)
    drop_file(harness.drop, "orders_b.csv", ORDER_HEADER, orders)
    report, _ = harness.run()
    assert admin.stats()["totals"]["requests"] == before
    assert report.total.customers_created == report.total.customers_updated == 0

    # an overlapping export (not byte-identical) is read but only changes are sent
    changed: list[list[object]] = [
        *rows, ["C6", phone(6), "", "New", "", "", "", "", "", "001", ""]]
    changed[0] = [*rows[0][:2], "new.address@example.com", *rows[0][3:]]
    drop_file(harness.drop, "customers_c.csv", CUSTOMER_HEADER, changed)
    drop_file(harness.drop, "orders_c.csv", ORDER_HEADER, [*orders, ["O6", "C6", "", "001",
                                                                       "", "1.00", "", ""]])
    report, _ = harness.run()
    assert admin.stats()["totals"]["requests"] == before + 3
    assert (report.total.customers_updated, report.total.customers_created) == (1, 1)
    assert report.total.customers_unchanged == 4
    assert report.total.events_unchanged == 5
    assert report.total.events_sent["order.completed"] == 1
    assert len(admin.events(WS_DOWNTOWN)) == 6
    c1 = next(c for c in admin.customers(WS_DOWNTOWN) if c["phone"] == e164(1))
    assert c1["email"] == "new.address@example.com"


def test_customer_buying_in_another_store_is_created_in_that_workspace_first(
        harness: Harness, admin: SandboxAdmin) -> None:
    drop_file(harness.drop, "customers_1.csv", CUSTOMER_HEADER, customers(1, store="001"))
    drop_file(harness.drop, "orders_1.csv", ORDER_HEADER, [
        ["O1", "C1", "", "002", "", "20.00", "", "completed"],   # eastside store
        ["O2", "C1", "", "", "", "5.00", "", "completed"],       # online: default workspace
    ])
    report, _ = harness.run()
    assert report.exit_code == 0
    for workspace, amount in ((WS_EASTSIDE, 2000), (WS_ONLINE, 500)):
        [customer] = admin.customers(workspace)
        assert customer["phone"] == e164(1)
        assert customer["email"] == "person1@example.com"
        [event] = admin.events(workspace)
        assert (event["customer_id"], event["amount_cents"]) == (customer["id"], amount)
    assert admin.events(WS_DOWNTOWN) == []
    assert len(admin.customers(WS_DOWNTOWN)) == 1


def test_refunds_are_sent_once_against_the_orders_customer(harness: Harness,
                                                          admin: SandboxAdmin) -> None:
    drop_file(harness.drop, "customers_1.csv", CUSTOMER_HEADER, customers(1))
    drop_file(harness.drop, "orders_1.csv", ORDER_HEADER, [
        ["O1", "C1", "", "002", "", "150.00", "", ""]])
    drop_file(harness.drop, "refunds_1.csv", REFUND_HEADER, [
        ["R1", "O1", "", "-20.00"],
        ["R2", "O1", "", "$30"],
        ["R3", "O1", "", "200.00"],     # more than what is left
        ["R4", "O404", "", "1.00"],     # no such order
    ])
    report, _ = harness.run()
    refunds = [e for e in admin.events(WS_EASTSIDE) if e["type"] == "order.refunded"]
    assert sorted(e["amount_cents"] for e in refunds) == [2000, 3000]
    assert report.total.rejected["refund_exceeds_order"] == 1
    assert report.total.quarantined["unknown_order"] == 1
    assert report.exit_code == 1
    [customer] = admin.customers(WS_EASTSIDE)
    assert customer["points_balance"] == 150 - 20 - 30

    drop_file(harness.drop, "refunds_2.csv", REFUND_HEADER, [["R1", "O1", "", "20.00"]])
    harness.run()
    assert len([e for e in admin.events(WS_EASTSIDE) if e["type"] == "order.refunded"]) == 2


def test_orders_by_phone_only_create_the_customer_and_guest_sales_are_skipped(
        harness: Harness, admin: SandboxAdmin) -> None:
    drop_file(harness.drop, "orders_1.csv", ORDER_HEADER, [
        ["O1", "", "415.555.0177", "001", "", "9.99", "", ""],
        ["O2", "", "(415) 555-0177", "001", "", "1.01", "", ""],
        ["O3", "", "", "001", "", "5.00", "", ""],
        ["O4", "C404", "", "001", "", "5.00", "", ""],
    ])
    report, _ = harness.run()
    [customer] = admin.customers(WS_DOWNTOWN)
    assert customer["phone"] == "+14155550177"
    assert [e["amount_cents"] for e in admin.events(WS_DOWNTOWN)] == [999, 101]
    assert report.total.skipped["no_phone"] == 1
    assert report.total.quarantined["unknown_customer"] == 1


def test_consent_needs_an_explicit_opt_in_with_source_and_newer_opt_out_wins(
        harness: Harness, admin: SandboxAdmin) -> None:
    header = [*CUSTOMER_HEADER, "loyalty_member"]
    drop_file(harness.drop, "customers_1.csv", header, [
        ["C1", phone(1), "", "", "", "Y", "", "kiosk", "2026-05-01T10:00:00Z", "001", "", "Y"],
        ["C2", phone(2), "", "", "", "Y", "", "", "", "001", "", "Y"],   # no source
        ["C3", phone(3), "", "", "", "", "", "", "", "001", "", "Y"],    # loyalty only
        ["C4", phone(4), "", "", "", "N", "", "", "2026-06-01T10:00:00Z", "001", "", ""],
    ])
    report, _ = harness.run()
    by_phone = {c["phone"]: c for c in admin.customers(WS_DOWNTOWN)}
    assert by_phone[e164(1)]["consent"] == {"sms": True, "source": "kiosk"}
    assert not (by_phone[e164(2)].get("consent") or {}).get("sms")
    assert not (by_phone[e164(3)].get("consent") or {}).get("sms")
    assert by_phone[e164(4)]["consent"]["sms"] is False
    assert report.total.warnings["consent_without_source"] == 1

    # later files: an older opt-in does not undo C4's opt-out; a newer opt-out wins for C1
    drop_file(harness.drop, "customers_2.csv", header, [
        ["C1", phone(1), "", "", "", "N", "", "", "2026-07-01T10:00:00Z", "001", "", "Y"],
        ["C4", phone(4), "", "", "", "Y", "", "kiosk", "2026-01-01T10:00:00Z", "001", "", ""],
    ])
    report, _ = harness.run()
    by_phone = {c["phone"]: c for c in admin.customers(WS_DOWNTOWN)}
    assert by_phone[e164(1)]["consent"]["sms"] is False
    assert by_phone[e164(4)]["consent"]["sms"] is False
    assert report.total.warnings["opt_out_kept"] == 1


def test_rejected_rows_go_to_the_errors_file_with_their_reason(harness: Harness) -> None:
    drop_file(harness.drop, "customers_1.csv", CUSTOMER_HEADER, [
        *customers(2),
        ["C9", "888-888-8888", "", "", "", "", "", "", "", "001", ""],
        ["C10", "4155550199.0", "", "", "", "maybe", "", "", "", "001", ""],
    ])
    report, _ = harness.run()
    assert report.total.rejected == {"fake_phone": 1, "invalid_boolean": 1}
    with (harness.drop / "rejected" / "customers_1.csv.errors.csv").open(
            encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    assert [(r["customer_id"], r["error_row"], r["error_reason"], r["error_field"])
            for r in rows] == [("C9", "3", "fake_phone", "phone"),
                               ("C10", "4", "invalid_boolean", "sms_opt_in")]
    assert "customers_1.csv row 3" in rows[0]["error_message"]
    store = harness.store()
    try:
        assert store.issues.open_counts("t1", "pos") == {"rejected": 2}
    finally:
        store.close()
