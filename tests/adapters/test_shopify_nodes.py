"""Shopify GraphQL nodes (real fixture shapes) → canonical records."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from adapters.records import CustomerRecord, LocationRecord, OrderRecord, RefundRecord
from adapters.shopify.nodes import customer_record, location_record, order_records
from connector.mapping.context import MappingContext
from connector.mapping.customers import map_customer

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "shopify" / "graphql"
CTX = MappingContext(tenant="t", source="shop")


def _fixture(name: str) -> Any:
    """A real payload (copied from the project's shared fixtures; see SOURCES.md)."""
    return json.loads((FIXTURES / name).read_text("utf-8"))


def test_fixture_customers_map_with_consent_only_from_subscribed() -> None:
    found = _fixture("customers_detailed_nodes__shopify_dev_2026-01__first10.json")
    records = [customer_record("shop", n) for n in found["data"]["customers"]["nodes"]]
    first = records[0]
    assert (first.customer_id, first.phone, first.email, first.first_name) == (
        "56501169", "+13125551219", "jennytest@b2b.example.com", "Jenny")
    # NOT_SUBSCRIBED says nothing: neither an opt-in nor an opt-out.
    assert first.sms_opt_in is None and first.email_opt_in is None
    assert map_customer(first, CTX).sms.granted is None


def _customer(sms: str | None, collected: str | None = "SHOPIFY") -> CustomerRecord:
    return customer_record("shop", {
        "id": "gid://shopify/Customer/7", "legacyResourceId": "7", "firstName": "A",
        "updatedAt": "2026-11-01T10:00:00Z",
        "defaultEmailAddress": {"emailAddress": "a@example.com",
                                "marketingState": "UNSUBSCRIBED"},
        "defaultPhoneNumber": {"phoneNumber": "+14155550123", "marketingState": sms,
                               "marketingCollectedFrom": collected,
                               "marketingUpdatedAt": "2026-10-30T09:00:00Z"}})


def test_consent_states() -> None:
    subscribed = _customer("SUBSCRIBED")
    assert (subscribed.sms_opt_in, subscribed.opt_in_source, subscribed.opt_in_at) == (
        "true", "shopify:shopify", "2026-10-30T09:00:00Z")
    assert map_customer(subscribed, CTX).sms.granted is True
    for state in ("UNSUBSCRIBED", "REDACTED"):
        record = _customer(state)
        assert record.sms_opt_in == "false"
        assert map_customer(record, CTX).sms.granted is False
    for silent in ("NOT_SUBSCRIBED", "PENDING", None):
        assert _customer(silent).sms_opt_in is None
    assert _customer("SUBSCRIBED", collected=None).opt_in_source == "shopify:unknown"
    assert _customer("SUBSCRIBED").email_opt_in == "false"


ORDER: dict[str, Any] = {
    "id": "gid://shopify/Order/1001", "legacyResourceId": "1001", "name": "#1001",
    "updatedAt": "2026-11-01T10:00:00Z", "processedAt": "2026-11-01T09:58:00Z",
    "cancelledAt": None, "test": False, "sourceName": "pos",
    "displayFinancialStatus": "PARTIALLY_REFUNDED", "phone": None,
    "retailLocation": {"id": "gid://shopify/Location/55", "legacyResourceId": "55"},
    "totalPriceSet": {"shopMoney": {"amount": "42.50", "currencyCode": "USD"}},
    "customer": {"id": "gid://shopify/Customer/7", "legacyResourceId": "7",
                 "defaultPhoneNumber": {"phoneNumber": "+14155550123"}},
    "refunds": [{"id": "gid://shopify/Refund/9", "legacyResourceId": "9",
                 "createdAt": "2026-11-02T10:00:00Z",
                 "totalRefundedSet": {"shopMoney": {"amount": "10.00",
                                                    "currencyCode": "USD"}}}],
    "lineItems": {"nodes": [{"id": "gid://shopify/LineItem/1", "sku": "fl-og-3.5g",
                             "quantity": 2},
                            {"id": "gid://shopify/LineItem/2", "sku": None, "quantity": 1}]},
}


def test_a_pos_order_with_a_refund() -> None:
    order, refund = order_records("shop", ORDER)
    assert isinstance(order, OrderRecord) and isinstance(refund, RefundRecord)
    assert (order.order_id, order.customer_id, order.phone, order.store_id, order.total,
            order.status, order.completed_at) == (
        "1001", "7", "+14155550123", "55", "42.50", "completed", "2026-11-01T09:58:00Z")
    assert [(i.sku, i.qty) for i in order.items] == [  # type: ignore[union-attr]
        ("fl-og-3.5g", "2"), ("shopify-line-2", "1")]
    assert (refund.refund_id, refund.order_id, refund.amount) == ("9", "1001", "10.00")


def test_a_cancelled_order_adds_a_remainder_refund_after_its_refunds() -> None:
    records = order_records("shop", {**ORDER, "cancelledAt": "2026-11-03T00:00:00Z"})
    assert [type(r).__name__ for r in records] == ["OrderRecord", "RefundRecord",
                                                  "RefundRecord"]
    last = records[-1]
    assert isinstance(last, RefundRecord)
    assert (last.refund_id, last.remainder, last.amount) == ("cancel-1001", True, None)
    assert records[0].status == "cancelled"  # type: ignore[union-attr]


def test_a_guest_order_without_any_phone_has_no_customer() -> None:
    [order, _] = order_records("shop", {**ORDER, "customer": {
        "id": "gid://shopify/Customer/8", "defaultPhoneNumber": None}})
    assert isinstance(order, OrderRecord)
    assert (order.customer_id, order.phone) == (None, None)
    [order, _] = order_records("shop", {**ORDER, "customer": None, "phone": "+14155550188",
                                        "retailLocation": None, "test": True})
    assert isinstance(order, OrderRecord)
    assert (order.customer_id, order.phone, order.store_id, order.status) == (
        None, "+14155550188", None, "test")


def test_fixture_orders_and_locations() -> None:
    page = _fixture("orders_with_money_and_lineitems__shopify_dev_2026-01.json")
    order = order_records("shop", page["data"]["orders"]["edges"][0]["node"])[0]
    assert isinstance(order, OrderRecord)
    assert (order.order_id, order.total) == ("158040885", "2000.0")
    assert [(i.sku, i.qty) for i in order.items] == [("draft-151", "10")]  # type: ignore[union-attr]
    locations = _fixture("locations_page__shopify_dev_2026-07.json")["data"]["locations"]
    nodes = locations.get("nodes") or [e["node"] for e in locations["edges"]]
    record = location_record("shop", nodes[0])
    assert isinstance(record, LocationRecord) and record.store_id and record.name
