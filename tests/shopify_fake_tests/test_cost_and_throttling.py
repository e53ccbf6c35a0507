"""Query cost (requested and actual), MAX_COST_EXCEEDED, the leaky bucket and THROTTLED."""

from __future__ import annotations

import time

from tests.shopify_fake_tests.support import Shop

ORDERS_DELTA = """
query OrdersDelta($first: Int!, $after: String, $q: String!) {
  orders(first: $first, after: $after, query: $q, sortKey: UPDATED_AT) {
    pageInfo { hasNextPage endCursor }
    nodes {
      id legacyResourceId name createdAt updatedAt processedAt cancelledAt cancelReason test
      sourceName sourceIdentifier
      retailLocation { id legacyResourceId name }
      currencyCode presentmentCurrencyCode displayFinancialStatus
      totalPriceSet        { shopMoney { amount currencyCode } }
      currentTotalPriceSet { shopMoney { amount currencyCode } }
      currentSubtotalPriceSet { shopMoney { amount currencyCode } }
      totalRefundedSet     { shopMoney { amount currencyCode } }
      email phone
      customer { id legacyResourceId firstName lastName
                 defaultEmailAddress { emailAddress }
                 defaultPhoneNumber  { phoneNumber } }
      refunds(first: 10) { id legacyResourceId createdAt
                           totalRefundedSet { shopMoney { amount currencyCode } } }
      lineItems(first: 20) { pageInfo { hasNextPage endCursor }
                             nodes { id sku quantity currentQuantity } }
    }
  }
}
"""
WINDOW = "updated_at:>='2026-09-01T00:00:00Z' AND updated_at:<'2026-09-01T01:00:00Z'"


def _requested(shop: Shop, query: str, variables: dict[str, object] | None = None) -> int:
    cost = shop.gql(query, variables)["extensions"]["cost"]["requestedQueryCost"]
    assert isinstance(cost, int)
    return cost


def test_requested_cost_rules(shop: Shop) -> None:
    assert _requested(shop, "{ shop { name } }") == 1
    assert _requested(shop, "{ shop { name billingAddress { city } } }") == 2
    money = "{ orders(first: 10) { nodes { id totalPriceSet { shopMoney { amount } } } } }"
    assert _requested(shop, money) == 2 + 10 * (1 + 2)
    both = (
        "{ orders(first: 10) { pageInfo { hasNextPage } edges { cursor node { id } } "
        "nodes { id customer { id } } } }"
    )
    assert _requested(shop, both) == 2 + 10 * 2  # edges and nodes are the same nodes
    refunds = (
        "{ orders(first: 2) { nodes { refunds(first: 5) "
        "{ id totalRefundedSet { shopMoney { amount } } } } } }"
    )
    assert _requested(shop, refunds) == 2 + 2 * (1 + 5 * 3)
    nested = "{ orders(first: 3) { nodes { lineItems(first: 20) { nodes { id } } } } }"
    assert _requested(shop, nested) == 2 + 3 * (1 + 2 + 20)
    variables = "query($n: Int!) { customers(first: $n) { nodes { id } } }"
    assert _requested(shop, variables, {"n": 7}) == 2 + 7
    fragment = (
        '{ node(id: "gid://shopify/BulkOperation/1") { ... on BulkOperation { id status } } }'
    )
    assert _requested(shop, fragment) == 1
    mutation = (
        'mutation { bulkOperationCancel(id: "gid://shopify/BulkOperation/1") '
        "{ userErrors { message } } }"
    )
    assert _requested(shop, mutation) == 10


def test_template_query_cost(shop: Shop) -> None:
    assert _requested(shop, ORDERS_DELTA, {"first": 10, "q": WINDOW}) == 2 + 10 * 65


def test_max_cost_exceeded(shop: Shop) -> None:
    body = shop.gql(ORDERS_DELTA, {"first": 25, "q": WINDOW})
    assert body == {
        "errors": [
            {
                "message": (
                    "Query cost is 1627, which exceeds the single query max cost limit (1000)."
                ),
                "extensions": {
                    "code": "MAX_COST_EXCEEDED",
                    "cost": 1627,
                    "maxCost": 1000,
                    "documentation": "https://shopify.dev/api/usage/rate-limits",
                },
            }
        ],
        "extensions": {
            "cost": {
                "requestedQueryCost": 1627,
                "actualQueryCost": None,
                "throttleStatus": {
                    "maximumAvailable": 2000.0,
                    "currentlyAvailable": 2000,
                    "restoreRate": 100.0,
                },
            }
        },
    }


def test_actual_cost_is_refunded(shop: Shop) -> None:
    fake = shop.fake
    fake.restore_rate = 1.0  # so the refill does not blur the numbers
    for _ in range(3):
        order = fake.add_order(total="30.00", line_items=[("A", 1)])
        fake.add_refund(order, "5.00")
    query = (
        "{ orders(first: 10) { nodes { id refunds(first: 5) { id } "
        "lineItems(first: 20) { nodes { id } } } } }"
    )
    cost = shop.gql(query)["extensions"]["cost"]
    assert cost["requestedQueryCost"] == 2 + 10 * (1 + 5 + 22)
    assert cost["actualQueryCost"] == 2 + 3 * (1 + 1 + 2 + 1)
    assert cost["throttleStatus"]["currentlyAvailable"] == 2000 - 17
    assert shop.fake.requests[-1].cost == 17


def test_throttled_with_http_200(shop: Shop) -> None:
    shop.fake.set_currently_available(5)
    shop.fake.restore_rate = 1.0
    response = shop.post("{ orders(first: 10) { nodes { id } } }")
    assert response.status_code == 200
    body = response.json()
    assert "data" not in body
    assert body["errors"] == [
        {
            "message": "Throttled",
            "extensions": {
                "code": "THROTTLED",
                "documentation": "https://shopify.dev/api/usage/rate-limits",
            },
        }
    ]
    cost = body["extensions"]["cost"]
    assert cost["requestedQueryCost"] == 12
    assert cost["actualQueryCost"] is None
    assert cost["throttleStatus"] == {
        "maximumAvailable": 2000.0,
        "currentlyAvailable": 5,
        "restoreRate": 1.0,
    }
    assert shop.fake.requests[-1].throttled


def test_throttled_with_http_429(shop: Shop) -> None:
    shop.fake.throttle_status = 429
    shop.fake.restore_rate = 2.0
    shop.fake.set_currently_available(0)
    response = shop.post("{ orders(first: 10) { nodes { id } } }")
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "6.0"
    assert response.json()["errors"][0]["extensions"]["code"] == "THROTTLED"


def test_bucket_refills(shop: Shop) -> None:
    fake = shop.fake
    fake.maximum_available = 50
    fake.restore_rate = 200.0
    fake.set_currently_available(0)
    query = "{ orders(first: 30) { nodes { id } } }"  # requested 32
    assert shop.gql(query)["errors"][0]["extensions"]["code"] == "THROTTLED"
    time.sleep(32 / 200 + 0.1)
    body = shop.gql(query)
    assert "errors" not in body
    status = body["extensions"]["cost"]["throttleStatus"]
    assert status["maximumAvailable"] == 50.0
    assert 0 <= status["currentlyAvailable"] <= 50


def test_small_bucket_throttles_repeatedly(shop: Shop) -> None:
    """A development-store sized bucket: back-to-back queries soon hit THROTTLED."""
    fake = shop.fake
    fake.maximum_available = 100
    fake.restore_rate = 1.0
    query = "{ orders(first: 40) { nodes { id } } }"  # requested 42, actual 2
    outcomes = [shop.gql(query).get("errors") is None for _ in range(3)]
    assert outcomes == [True, True, True]  # actual cost is only 2: refunds keep it going
    fake.add_order()
    assert [bool(shop.gql(query).get("errors")) for _ in range(40)].count(True) > 0
