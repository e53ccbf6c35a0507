"""Record mappers and the consent rules, table-driven (pure functions, no I/O)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from adapters.records import CustomerRecord, LineItem, OrderRecord, Origin, RefundRecord
from connector.errors import InvalidRecord, RecordProblem, SkipRecord
from connector.mapping.consent import ConsentState, merge_consent
from connector.mapping.context import MappingContext
from connector.mapping.customers import customer_payload, map_customer, merge_profile
from connector.mapping.keys import idempotency_key, phone_customer_key
from connector.mapping.orders import map_order, map_refund
from state import Profile

CTX = MappingContext(tenant="t1", source="pos", phone_region="US", timezone="UTC",
                     default_workspace="ws_online",
                     workspaces={"001": "ws_downtown", "002": "ws_eastside"})
ORIGIN = Origin(source="pos", stream="customers", locator="c.csv row 1", file="c.csv", row=1)
T1 = datetime(2026, 1, 1, tzinfo=UTC)
T2 = datetime(2026, 6, 1, tzinfo=UTC)


def customer(**fields: Any) -> CustomerRecord:
    return CustomerRecord(origin=ORIGIN, **{"customer_id": "C1", "phone": "415.555.0101",
                                            **fields})


def order(**fields: Any) -> OrderRecord:
    return OrderRecord(origin=ORIGIN, **{"order_id": "O1", "customer_id": "C1",
                                         "total": "12.50", **fields})


# -- customers ---------------------------------------------------------------------------

@pytest.mark.parametrize(("fields", "expected"), [
    ({}, {"phone": "+14155550101", "metadata": {"source_customer": "pos:C1"}}),
    ({"email": " Sam@Example.COM ", "first_name": " Sam ", "last_name": "Lee",
      "store_id": "001"},
     {"phone": "+14155550101", "email": "sam@example.com", "first_name": "Sam",
      "metadata": {"source_customer": "pos:C1", "last_name": "Lee", "store_id": "001"}}),
    ({"sms_opt_in": "Y", "opt_in_source": "kiosk", "opt_in_at": "2026-01-01T00:00:00Z"},
     {"phone": "+14155550101", "consent": {"sms": True, "source": "kiosk"},
      "metadata": {"source_customer": "pos:C1", "sms_consent_at": "2026-01-01T00:00:00Z"}}),
    ({"sms_opt_in": "no", "email_opt_in": "yes"},
     {"phone": "+14155550101", "consent": {"sms": False, "email": True},
      "metadata": {"source_customer": "pos:C1"}}),
    ({"sms_opt_in": "Y"},  # opt-in without a source: not recorded
     {"phone": "+14155550101", "metadata": {"source_customer": "pos:C1"}}),
], ids=["minimal", "names_and_email", "sms_opt_in", "opt_out", "opt_in_without_source"])
def test_customer_payloads(fields: dict[str, str], expected: dict[str, Any]) -> None:
    mapped = map_customer(customer(**fields), CTX)
    profile, _ = merge_profile(None, mapped)
    assert customer_payload(profile) == expected


@pytest.mark.parametrize("phone", [None, "N/A", " "])
def test_a_customer_without_a_phone_is_skipped_not_rejected(phone: str | None) -> None:
    with pytest.raises(SkipRecord) as caught:
        map_customer(customer(phone=phone), CTX)
    assert (caught.value.reason, caught.value.field) == ("no_phone", "phone")


@pytest.mark.parametrize(("fields", "reason", "field"), [
    ({"phone": "555-1234"}, "invalid_phone", "phone"),
    ({"phone": "888-888-8888"}, "fake_phone", "phone"),
    ({"sms_opt_in": "maybe"}, "invalid_boolean", "sms_opt_in"),
    ({"updated_at": "yesterday"}, "invalid_timestamp", "updated_at"),
])
def test_customer_rejections_name_the_field(fields: dict[str, Any], reason: str,
                                            field: str) -> None:
    with pytest.raises(InvalidRecord) as caught:
        map_customer(customer(**fields), CTX)
    assert (caught.value.reason, caught.value.field) == (reason, field)


def test_customer_routing_keys_and_warnings() -> None:
    mapped = map_customer(customer(store_id="002", email="not-an-email"), CTX)
    assert (mapped.workspace, mapped.key) == ("ws_eastside", "pos:C1")
    assert mapped.profile.email is None and "invalid_email_dropped" in mapped.warnings
    assert map_customer(customer(store_id="999"), CTX).workspace == "ws_online"
    by_phone = map_customer(customer(customer_id=" "), CTX)
    assert by_phone.key == phone_customer_key("+14155550101")
    assert "4155550101" not in by_phone.key


def test_an_older_row_than_the_one_synced_is_skipped() -> None:
    previous = Profile("pos:C1", "+14155550101", source_updated_at=T2)
    with pytest.raises(SkipRecord, match="older"):
        merge_profile(previous, map_customer(customer(updated_at="2026-01-01"), CTX))


def test_a_loyalty_flag_is_never_consent() -> None:
    record = customer(sms_opt_in=None, raw={"loyalty_member": "Y", "is_loyalty": "true"})
    profile, _ = merge_profile(None, map_customer(record, CTX))
    assert profile.sms_consent is None and "consent" not in customer_payload(profile)


# -- consent -----------------------------------------------------------------------------

IN_OLD, IN_NEW = ConsentState(True, T1, "kiosk"), ConsentState(True, T2, "web")
OUT_OLD, OUT_NEW = ConsentState(False, T1), ConsentState(False, T2)
IN_UNDATED, OUT_UNDATED = ConsentState(True, None, "kiosk"), ConsentState(False, None)
UNKNOWN = ConsentState()


@pytest.mark.parametrize(("previous", "incoming", "granted", "warning"), [
    (UNKNOWN, IN_OLD, True, None),
    (UNKNOWN, OUT_OLD, False, None),
    (IN_OLD, UNKNOWN, True, None),            # a blank flag says nothing
    (OUT_OLD, UNKNOWN, False, None),
    (OUT_OLD, IN_NEW, True, None),            # newer opt-in replaces an older opt-out
    (OUT_NEW, IN_OLD, False, "opt_out_kept"),  # older opt-in never undoes an opt-out
    (OUT_UNDATED, IN_NEW, False, "opt_out_kept"),  # undated conflict: opt-out wins
    (OUT_OLD, IN_UNDATED, False, "opt_out_kept"),
    (IN_OLD, OUT_NEW, False, None),           # newer opt-out wins
    (IN_OLD, OUT_UNDATED, False, None),
    (IN_UNDATED, OUT_OLD, False, None),
    (IN_NEW, OUT_OLD, True, "stale_opt_out_ignored"),  # dated strictly older than the opt-in
    (IN_NEW, IN_OLD, True, None),
])
def test_consent_merge(previous: ConsentState, incoming: ConsentState, granted: bool,
                       warning: str | None) -> None:
    outcome = merge_consent(previous, incoming)
    assert (outcome.state.granted, outcome.warning) == (granted, warning)


def test_an_older_signal_of_the_same_kind_keeps_the_newer_source() -> None:
    assert merge_consent(IN_NEW, IN_OLD).state == IN_NEW


# -- orders and refunds ------------------------------------------------------------------

@pytest.mark.parametrize(("fields", "amount", "items", "workspace"), [
    ({}, 1250, [], "ws_online"),
    ({"total": "$1,299.50", "store_id": "001"}, 129950, [], "ws_downtown"),
    ({"total": "19.990000000000002"}, 1999, [], "ws_online"),
    ({"items": "cd-pre-1g-1:2; gum:1", "status": "Completed"}, 1250,
     [{"sku": "cd-pre-1g-1", "qty": 2}, {"sku": "gum", "qty": 1}], "ws_online"),
    ({"items": (LineItem("a", "2"), LineItem("b", "1.0"))}, 1250,
     [{"sku": "a", "qty": 2}, {"sku": "b", "qty": 1}], "ws_online"),
    ({"status": "refunded"}, 1250, [], "ws_online"),
])
def test_order_events(fields: dict[str, Any], amount: int, items: list[dict[str, Any]],
                      workspace: str) -> None:
    mapped = map_order(order(**fields), CTX)
    body: dict[str, Any] = {"type": "order.completed", "amount_cents": amount}
    if items:
        body["items"] = items
    assert mapped.event_body() == body
    assert (mapped.workspace, mapped.key, mapped.customer_key) == (workspace, "pos:O1",
                                                                   "pos:C1")


@pytest.mark.parametrize(("fields", "problem", "reason"), [
    ({"order_id": " "}, InvalidRecord, "missing_order_id"),
    ({"total": None}, InvalidRecord, "missing_amount"),
    ({"total": "1.299,50"}, InvalidRecord, "invalid_amount"),
    ({"total": "-5.00"}, InvalidRecord, "negative_amount"),
    ({"items": "sku-without-qty"}, InvalidRecord, "invalid_items"),
    ({"status": "voided"}, SkipRecord, "order_not_completed"),
    ({"status": "Pending"}, SkipRecord, "order_not_completed"),
    ({"status": "shipped-ish"}, InvalidRecord, "unknown_status"),
    ({"customer_id": None, "phone": None}, SkipRecord, "no_phone"),
    ({"customer_id": None, "phone": "123"}, InvalidRecord, "invalid_phone"),
])
def test_order_problems(fields: dict[str, Any], problem: type[RecordProblem],
                        reason: str) -> None:
    with pytest.raises(problem) as caught:
        map_order(order(**fields), CTX)
    assert caught.value.reason == reason


def test_an_order_phone_is_used_when_there_is_no_customer_id() -> None:
    mapped = map_order(order(customer_id=None, phone="(415) 555-0177"), CTX)
    assert (mapped.customer_key, mapped.phone) == (None, "+14155550177")
    kept = map_order(order(phone="garbage"), CTX)  # has a customer id: bad phone ignored
    assert kept.phone is None and "invalid_order_phone_ignored" in kept.warnings


@pytest.mark.parametrize(("amount", "cents"), [("20.00", 2000), ("-12.50", 1250),
                                               ("$1,000", 100000)])
def test_refunds_carry_their_size(amount: str, cents: int) -> None:
    mapped = map_refund(RefundRecord(ORIGIN, "R1", order_id="O1", amount=amount), CTX)
    assert mapped.event_body() == {"type": "order.refunded", "amount_cents": cents}
    assert (mapped.key, mapped.order_key) == ("pos:R1", "pos:O1")


@pytest.mark.parametrize(("fields", "problem", "reason"), [
    ({"refund_id": None}, InvalidRecord, "missing_refund_id"),
    ({"order_id": ""}, InvalidRecord, "missing_order_id"),
    ({"amount": "0.00"}, SkipRecord, "zero_amount"),
    ({"amount": "ten"}, InvalidRecord, "invalid_amount"),
])
def test_refund_problems(fields: dict[str, Any], problem: type[RecordProblem],
                         reason: str) -> None:
    record = RefundRecord(ORIGIN, **{"refund_id": "R1", "order_id": "O1", "amount": "1",
                                     **fields})
    with pytest.raises(problem) as caught:
        map_refund(record, CTX)
    assert caught.value.reason == reason


def test_idempotency_keys_follow_identity_and_content() -> None:
    base = idempotency_key("t1", "ws", "customer", "pos:C1", "h1")
    assert base == idempotency_key("t1", "ws", "customer", "pos:C1", "h1")
    others = {idempotency_key("t2", "ws", "customer", "pos:C1", "h1"),
              idempotency_key("t1", "ws2", "customer", "pos:C1", "h1"),
              idempotency_key("t1", "ws", "customer", "pos:C1", "h2"),
              idempotency_key("t1", "ws", "order.completed", "pos:C1", "h1")}
    assert base not in others and len(others) == 4


def test_an_orders_event_does_not_depend_on_the_order_of_its_line_items() -> None:
    """A source may list line items in another order on another read (Shopify's bulk
    results put them anywhere): the event, hence its idempotency key, stays the same."""
    items = (LineItem("B-2", "1"), LineItem("A-1", "3"), LineItem("B-2", "2"))
    first = map_order(order(items=items), CTX)
    again = map_order(order(items=tuple(reversed(items))), CTX)
    assert first.event_body() == again.event_body()
    assert [i["sku"] for i in first.event_body()["items"]] == ["A-1", "B-2", "B-2"]


def test_control_characters_never_reach_a_payload() -> None:
    """NUL and other control characters are stripped from names and metadata (a line
    break becomes a space); an e-mail holding one is refused; lone surrogates (what an
    undecodable byte becomes) are dropped, so the payload is valid Unicode."""
    mapped = map_customer(customer(
        first_name="Jo\x00sé", last_name="O\u0085Brien\ud800", store_id="0\x0701",
        email="ada\x00@example.com"), CTX)
    profile, _ = merge_profile(None, mapped)
    payload = customer_payload(profile)
    assert payload["first_name"] == "José"
    assert payload["metadata"]["last_name"] == "OBrien"
    assert payload["metadata"]["store_id"] == "001"
    assert "email" not in payload and "invalid_email_dropped" in mapped.warnings
    json.dumps(payload, ensure_ascii=False).encode("utf-8")  # valid Unicode throughout
    with pytest.raises(InvalidRecord, match=r"items\[1\]\.sku has control characters"):
        map_order(order(items=(LineItem("SKU\x00-1", "2"),)), CTX)  # an identity: refused
