"""Transport and GraphQL protocol: auth, versions, schema validation errors, request log."""

from __future__ import annotations

import httpx2

import tests.shopify_fake as shopify_fake
from tests.shopify_fake import ShopifyFake, running_shopify
from tests.shopify_fake_tests.support import Shop


def test_public_api() -> None:
    assert {"ShopifyFake", "running_shopify", "RunningShopify"} <= set(shopify_fake.__all__)


def test_running_shopify_urls(fake: ShopifyFake) -> None:
    with running_shopify(fake, token="shpat_other") as running:
        assert running.base_url == f"http://127.0.0.1:{running.port}"
        assert running.shop_domain == f"127.0.0.1:{running.port}"
        assert running.graphql_url("2026-07") == (
            f"http://127.0.0.1:{running.port}/admin/api/2026-07/graphql.json"
        )
        assert running.myshopify_domain == "sticky-test.myshopify.com"
        response = httpx2.post(
            running.graphql_url(), json={"query": "{ shop { name } }"}, headers=running.headers
        )
        assert response.status_code == 200
        assert response.json()["data"] == {"shop": {"name": "Sticky Test Dispensary"}}


def test_missing_or_wrong_token_is_401(shop: Shop) -> None:
    url = shop.running.graphql_url()
    expected = {
        "errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"
    }
    missing = httpx2.post(url, json={"query": "{ shop { name } }"})
    wrong = httpx2.post(
        url, json={"query": "{ shop { name } }"}, headers={"X-Shopify-Access-Token": "shpat_no"}
    )
    assert (missing.status_code, missing.json()) == (401, expected)
    assert (wrong.status_code, wrong.json()) == (401, expected)
    assert [r.status for r in shop.fake.requests] == [401, 401]


def test_version_header_and_fall_forward(shop: Shop) -> None:
    pinned = shop.post("{ shop { name } }", version="2026-07")
    assert pinned.headers["X-Shopify-API-Version"] == "2026-07"
    expired = shop.post("{ shop { name } }", version="2024-01")
    assert expired.status_code == 200
    assert expired.headers["X-Shopify-API-Version"] == "2026-01"  # oldest supported
    assert shop.post("{ shop { name } }", version="latest").status_code == 404


def test_misspelled_field_is_a_validation_error(shop: Shop) -> None:
    body = shop.gql("query Q { orders(first: 2) { nodes { id updatedAtt } } }")
    assert "data" not in body
    assert body["errors"] == [
        {
            "message": "Field 'updatedAtt' doesn't exist on type 'Order'",
            "locations": [{"line": 1, "column": 41}],
            "path": ["query Q", "orders", "nodes", "updatedAtt"],
            "extensions": {
                "code": "undefinedField",
                "typeName": "Order",
                "fieldName": "updatedAtt",
            },
        }
    ]
    cost = body["extensions"]["cost"]
    assert cost["actualQueryCost"] is None
    assert cost["throttleStatus"]["currentlyAvailable"] == 2000  # nothing charged


def test_removed_field_does_not_exist(shop: Shop) -> None:
    """``Order.location`` was removed in 2024-07 (use ``retailLocation``)."""
    body = shop.gql("{ orders(first: 1) { nodes { location { id } } } }")
    assert body["errors"][0]["message"] == "Field 'location' doesn't exist on type 'Order'"


def test_other_validation_errors_use_shopify_wording(shop: Shop) -> None:
    messages = {
        "{ orders(first: 1, since: 3) { nodes { id } } }": (
            "Field 'orders' doesn't accept argument 'since'"
        ),
        "{ bulkOperation { id } }": "Field 'bulkOperation' is missing required arguments: id",
        "{ orders(first: 1) { nodes { customer } } }": (
            "Field must have selections (field 'customer' returns Customer but has no "
            "selections. Did you mean 'customer { ... }'?)"
        ),
        "{ orders(first: 1, sortKey: UPDATED) { nodes { id } } }": (
            "Argument 'sortKey' on Field 'orders' has an invalid value (UPDATED). "
            "Expected type 'OrderSortKeys'."
        ),
        "query Q($x: Int) { shop { name } }": "Variable $x is declared by Q but not used",
    }
    for query, message in messages.items():
        body = shop.gql(query)
        assert body["errors"][0]["message"] == message, query


def test_syntax_error(shop: Shop) -> None:
    body = shop.gql("{ orders(first: 1) { nodes { id } }")
    assert body["errors"][0]["message"].startswith("Syntax Error")
    assert body["errors"][0]["locations"]


def test_bad_variables(shop: Shop) -> None:
    query = "query Q($first: Int!) { orders(first: $first) { nodes { id } } }"
    body = shop.gql(query, {"first": "ten"})
    assert body["errors"][0]["message"] == "Variable $first of type Int! was provided invalid value"
    assert body["errors"][0]["extensions"]["value"] == "ten"


def test_missing_query_is_400(shop: Shop) -> None:
    response = shop.client.post(shop.running.graphql_url(), json={"variables": {}})
    assert response.status_code == 400
    assert response.json() == {"errors": {"query": "Required parameter missing or invalid"}}


def test_application_graphql_body(shop: Shop) -> None:
    response = shop.client.post(
        shop.running.graphql_url(),
        content="{ shop { myshopifyDomain } }",
        headers={"Content-Type": "application/graphql"},
    )
    assert response.json()["data"] == {"shop": {"myshopifyDomain": "sticky-test.myshopify.com"}}


def test_deprecated_fields_work_and_flag_the_response(shop: Shop) -> None:
    shop.fake.add_customer("Bo", "Wang", email="bo.wang@example.com", phone="+14155550123")
    response = shop.post("{ customers(first: 1) { nodes { email phone } } }")
    assert response.json()["data"]["customers"]["nodes"] == [
        {"email": "bo.wang@example.com", "phone": "+14155550123"}
    ]
    assert "X-Shopify-API-Deprecated-Reason" in response.headers
    current = shop.post(
        "{ customers(first: 1) { nodes { defaultEmailAddress { emailAddress } } } }"
    )
    assert "X-Shopify-API-Deprecated-Reason" not in current.headers


def test_shop_and_scopes(shop: Shop) -> None:
    data = shop.data(
        "{ shop { id name myshopifyDomain ianaTimezone currencyCode "
        "billingAddress { city provinceCode countryCodeV2 } } "
        "currentAppInstallation { accessScopes { handle } } }"
    )
    assert data["shop"]["id"].startswith("gid://shopify/Shop/")
    assert data["shop"]["ianaTimezone"] == "America/New_York"
    assert data["shop"]["billingAddress"]["countryCodeV2"] == "US"
    handles = [s["handle"] for s in data["currentAppInstallation"]["accessScopes"]]
    assert "read_all_orders" in handles
    shop.fake.drop_scope("read_all_orders")
    data = shop.data("{ currentAppInstallation { accessScopes { handle } } }")
    assert "read_all_orders" not in [
        s["handle"] for s in data["currentAppInstallation"]["accessScopes"]
    ]


def test_missing_scope_is_access_denied(shop: Shop) -> None:
    shop.fake.drop_scope("read_customers")
    body = shop.gql("{ customers(first: 1) { nodes { id } } }")
    assert body["data"] is None
    error = body["errors"][0]
    assert error["path"] == ["customers"]
    assert error["extensions"]["code"] == "ACCESS_DENIED"
    assert error["extensions"]["requiredAccess"] == "`read_customers` access scope."


def test_request_log(shop: Shop) -> None:
    shop.post("query Shop { shop { name } }", {"unused": 1})
    shop.post("{ orders(first: 5) { nodes { id } } }")
    log = shop.fake.requests
    assert [r.operation_name for r in log] == [None, None]
    assert log[0].query == "query Shop { shop { name } }"
    assert log[0].variables == {"unused": 1}
    assert (log[0].status, log[0].version) == (200, "2026-07")
    assert log[1].requested_cost == 2 + 5 * 1
    assert log[1].cost == 2  # no orders: only the connection itself
    shop.fake.clear_requests()
    assert shop.fake.requests == []


def test_node_lookup_by_gid(shop: Shop) -> None:
    order = shop.fake.add_order(total="20.00")
    data = shop.data(
        "query($id: ID!) { node(id: $id) { id ... on Order { name } } order(id: $id) { id } }",
        {"id": f"gid://shopify/Order/{order.id}"},
    )
    assert data["node"] == {"id": f"gid://shopify/Order/{order.id}", "name": order.name}
    assert data["order"] == {"id": f"gid://shopify/Order/{order.id}"}
    missing = shop.data('{ order(id: "gid://shopify/Order/1") { id } }')
    assert missing == {"order": None}
