"""Data helpers seen through the API, and the fault switches."""

from __future__ import annotations

from datetime import timedelta

import httpx2

from tests.shopify_fake_tests.conftest import NOW
from tests.shopify_fake_tests.support import Shop

ORDER = """
query($id: ID!) {
  order(id: $id) {
    name createdAt updatedAt processedAt cancelledAt cancelReason closedAt test sourceName
    displayFinancialStatus
    totalPriceSet { shopMoney { amount currencyCode } presentmentMoney { amount } }
    currentTotalPriceSet { shopMoney { amount } }
    currentSubtotalPriceSet { shopMoney { amount } }
    totalRefundedSet { shopMoney { amount } }
    retailLocation { name }
    customer { id numberOfOrders amountSpent { amount currencyCode } updatedAt }
    refunds { legacyResourceId createdAt totalRefundedSet { shopMoney { amount } } }
    lineItems(first: 5) {
      nodes { sku quantity currentQuantity originalUnitPriceSet { shopMoney { amount } } }
    }
  }
}
"""


def _order(shop: Shop, order_id: int) -> dict:  # type: ignore[type-arg]
    order = shop.data(ORDER, {"id": f"gid://shopify/Order/{order_id}"})["order"]
    assert isinstance(order, dict)
    return order


def test_order_money_refunds_and_cancel(shop: Shop) -> None:
    fake = shop.fake
    store = fake.add_location("Mission", phone="+14155550142")
    customer = fake.add_customer("Bo", "Wang", created_at=NOW - timedelta(days=30))
    order = fake.add_order(
        customer=customer,
        total="42.50",
        source_name="pos",
        retail_location=store,
        line_items=[("BD-35", 1, "35.00"), ("PAPERS", 2)],
        processed_at=NOW - timedelta(hours=2),
    )
    seen = _order(shop, order.id)
    assert seen["name"] == "#1001"
    assert seen["totalPriceSet"] == {
        "shopMoney": {"amount": "42.5", "currencyCode": "USD"},
        "presentmentMoney": {"amount": "42.5"},
    }
    assert (seen["createdAt"], seen["updatedAt"]) == ("2026-09-15T12:00:00Z",) * 2
    assert seen["processedAt"] == "2026-09-15T10:00:00Z"
    assert seen["retailLocation"] == {"name": "Mission"}
    assert seen["closedAt"] == seen["processedAt"]  # POS orders close at once
    assert seen["customer"]["numberOfOrders"] == "1"
    assert seen["customer"]["amountSpent"] == {"amount": "42.5", "currencyCode": "USD"}
    assert seen["customer"]["updatedAt"] == "2026-09-15T12:00:00Z"  # bumped by the order
    assert seen["lineItems"]["nodes"][1]["originalUnitPriceSet"]["shopMoney"]["amount"] == "3.75"

    fake.advance(hours=1)
    refund = fake.add_refund(order, "10.00", created_at=NOW - timedelta(minutes=30))
    seen = _order(shop, order.id)
    assert seen["updatedAt"] == "2026-09-15T13:00:00Z"
    assert seen["displayFinancialStatus"] == "PARTIALLY_REFUNDED"
    assert seen["currentTotalPriceSet"]["shopMoney"]["amount"] == "32.5"
    assert seen["totalRefundedSet"]["shopMoney"]["amount"] == "10.0"
    assert seen["refunds"] == [
        {
            "legacyResourceId": str(refund.id),
            "createdAt": "2026-09-15T11:30:00Z",
            "totalRefundedSet": {"shopMoney": {"amount": "10.0"}},
        }
    ]

    fake.advance(hours=1)
    fake.cancel_order(order, reason="CUSTOMER", refund=True)
    seen = _order(shop, order.id)
    assert (seen["cancelledAt"], seen["cancelReason"]) == ("2026-09-15T14:00:00Z", "CUSTOMER")
    assert seen["updatedAt"] == "2026-09-15T14:00:00Z"
    assert seen["displayFinancialStatus"] == "REFUNDED"
    assert seen["currentTotalPriceSet"]["shopMoney"]["amount"] == "0.0"
    assert len(seen["refunds"]) == 2
    assert {n["currentQuantity"] for n in seen["lineItems"]["nodes"]} == {0}


def test_guest_order(shop: Shop) -> None:
    order = shop.fake.add_order(source_name="pos", email=None)
    seen = _order(shop, order.id)
    assert seen["customer"] is None
    assert seen["retailLocation"] is None  # a POS draft "mark as paid" order


def test_customer_consent_and_updates(shop: Shop) -> None:
    fake = shop.fake
    customer = fake.add_customer(
        "Ana",
        "Silva",
        email="ana@example.com",
        phone="+13125550101",
        email_state="SUBSCRIBED",
        sms_state="REDACTED",
        created_at=NOW - timedelta(days=3),
    )
    query = (
        "query($id: ID!) { customer(id: $id) { updatedAt displayName "
        "defaultEmailAddress { emailAddress marketingState marketingOptInLevel "
        "marketingUpdatedAt } defaultPhoneNumber { phoneNumber marketingState "
        "marketingOptInLevel marketingCollectedFrom } } }"
    )
    gid = f"gid://shopify/Customer/{customer.id}"
    seen = shop.data(query, {"id": gid})["customer"]
    assert seen["displayName"] == "Ana Silva"
    assert seen["defaultEmailAddress"] == {
        "emailAddress": "ana@example.com",
        "marketingState": "SUBSCRIBED",
        "marketingOptInLevel": "SINGLE_OPT_IN",
        "marketingUpdatedAt": "2026-09-12T12:00:00Z",
    }
    assert seen["defaultPhoneNumber"]["marketingState"] == "REDACTED"
    fake.advance(minutes=10)
    fake.update_customer(customer, sms_state="UNSUBSCRIBED", email=None)
    seen = shop.data(query, {"id": gid})["customer"]
    assert seen["updatedAt"] == "2026-09-15T12:10:00Z"
    assert seen["defaultEmailAddress"] is None
    assert seen["defaultPhoneNumber"]["marketingState"] == "UNSUBSCRIBED"
    fake.delete_customer(customer)
    assert shop.data(query, {"id": gid}) == {"customer": None}


def test_server_errors(shop: Shop) -> None:
    fake = shop.fake
    fake.server_errors_next = 2
    first = shop.post("{ shop { name } }")
    assert first.status_code == 503
    assert first.headers["content-type"].startswith("text/html")
    assert "<html" in first.text
    fake.server_error_status = 502
    assert shop.post("{ shop { name } }").status_code == 502
    assert shop.post("{ shop { name } }").status_code == 200
    assert [r.status for r in fake.requests] == [503, 502, 200]


def test_internal_error_with_http_200(shop: Shop) -> None:
    shop.fake.internal_error_next = 1
    body = shop.gql("{ shop { name } }")
    assert set(body) == {"errors"}
    assert body["errors"][0]["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    assert len(body["errors"][0]["extensions"]["requestId"]) == 36
    assert "data" in shop.gql("{ shop { name } }")


def test_download_errors(shop: Shop) -> None:
    fake = shop.fake
    fake.add_customer()
    run = shop.data(
        'mutation { bulkOperationRunQuery(query: "{ customers { edges { node { id } } } }") '
        "{ bulkOperation { id } } }"
    )
    op_id = run["bulkOperationRunQuery"]["bulkOperation"]["id"]
    poll = "query($id: ID!) { bulkOperation(id: $id) { url } }"
    shop.data(poll, {"id": op_id})
    url = shop.data(poll, {"id": op_id})["bulkOperation"]["url"]
    fake.download_errors_next = 1
    assert httpx2.get(url).status_code == 503
    assert httpx2.get(url).status_code == 200
