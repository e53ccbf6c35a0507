"""Bulk operations: lifecycle, JSONL with shuffled children, failures, limits, cancel."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx2

from tests.shopify_fake import ShopifyFake
from tests.shopify_fake_tests.support import Shop, serve

RUN = """
mutation Run($query: String!, $group: Boolean!) {
  bulkOperationRunQuery(query: $query, groupObjects: $group) {
    bulkOperation { id status }
    userErrors { field message code }
  }
}
"""
POLL = """
query Poll($id: ID!) {
  bulkOperation(id: $id) {
    id status errorCode createdAt completedAt objectCount rootObjectCount fileSize url
    partialDataUrl query type
  }
}
"""
NODE_POLL = """
query NodePoll($id: ID!) {
  node(id: $id) {
    ... on BulkOperation { id status errorCode objectCount fileSize url partialDataUrl }
  }
}
"""
ORDERS_BULK = """
{
  orders(query: "updated_at:>='2020-01-01T00:00:00Z'") {
    edges {
      node {
        __typename id legacyResourceId name updatedAt sourceName
        retailLocation { id }
        currentTotalPriceSet { shopMoney { amount currencyCode } }
        customer { id }
        refunds { id totalRefundedSet { shopMoney { amount } } }
        lineItems { edges { node { __typename id sku quantity } } }
      }
    }
  }
}
"""


def _run(shop: Shop, query: str, *, group: bool = False) -> dict[str, Any]:
    payload = shop.data(RUN, {"query": query, "group": group})["bulkOperationRunQuery"]
    assert isinstance(payload, dict)
    return payload


def _poll(shop: Shop, op_id: str) -> dict[str, Any]:
    op = shop.data(POLL, {"id": op_id})["bulkOperation"]
    assert isinstance(op, dict)
    return op


def _download(url: str) -> list[dict[str, Any]]:
    response = httpx2.get(url)  # no access token: a signed URL
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/jsonl")
    return [json.loads(line) for line in response.text.splitlines()]


def _orders_with_items(fake: ShopifyFake, count: int) -> None:
    store = fake.add_location("Store")
    customer = fake.add_customer("Ada", "Lovelace")
    for index in range(count):
        order = fake.add_order(
            customer=customer if index % 2 else None,
            source_name="pos" if index % 3 == 0 else "web",
            retail_location=store if index % 3 == 0 else None,
            line_items=[(f"SKU-{index}-{n}", n + 1) for n in range(index % 3 + 1)],
            total="30.00",
        )
        if index % 4 == 0:
            fake.add_refund(order, "5.00")


def test_lifecycle_and_jsonl_with_shuffled_children(shop: Shop) -> None:
    _orders_with_items(shop.fake, 40)
    created = _run(shop, ORDERS_BULK)
    assert created["userErrors"] == []
    op_id = created["bulkOperation"]["id"]
    assert op_id.startswith("gid://shopify/BulkOperation/")
    assert created["bulkOperation"]["status"] == "CREATED"

    running = _poll(shop, op_id)
    assert (running["status"], running["url"], running["fileSize"]) == ("RUNNING", None, None)
    done = shop.data(NODE_POLL, {"id": op_id})["node"]
    assert done["status"] == "COMPLETED"
    full = _poll(shop, op_id)
    assert full["type"] == "QUERY" and full["query"] == ORDERS_BULK
    assert full["completedAt"] is not None and full["errorCode"] is None

    lines = _download(full["url"])
    assert full["objectCount"] == str(len(lines))
    assert int(full["fileSize"]) > 0
    parents = [line for line in lines if "__parentId" not in line]
    children = [line for line in lines if "__parentId" in line]
    assert full["rootObjectCount"] == str(len(parents)) == "40"
    assert len(children) == sum(index % 3 + 1 for index in range(40))
    assert all(line["__typename"] == "Order" for line in parents)
    assert all(line["__typename"] == "LineItem" for line in children)
    assert all(list(line)[-1] == "__parentId" for line in children)
    # non-connection objects stay inline; the connection itself is not in the parent line
    assert "lineItems" not in parents[0]
    assert {"retailLocation", "customer", "currentTotalPriceSet", "refunds"} <= set(parents[0])
    refunded = [p for p in parents if p["refunds"]]
    assert refunded and refunded[0]["refunds"][0]["totalRefundedSet"]["shopMoney"] == {
        "amount": "5.0"
    }

    # groupObjects false: children are not (all) right after their parent, some even before
    position = {line["id"]: i for i, line in enumerate(lines)}
    assert any(position[c["__parentId"]] > position[c["id"]] for c in children)
    # joined by __parentId, nothing is lost
    by_parent: dict[str, list[str]] = {}
    for child in children:
        by_parent.setdefault(child["__parentId"], []).append(child["sku"])
    for order in shop.fake.orders:
        gid = f"gid://shopify/Order/{order.id}"
        assert sorted(by_parent[gid]) == sorted(item.sku or "" for item in order.line_items)


def test_group_objects_puts_children_after_their_parent(shop: Shop) -> None:
    _orders_with_items(shop.fake, 10)
    op_id = _run(shop, ORDERS_BULK, group=True)["bulkOperation"]["id"]
    _poll(shop, op_id)
    lines = _download(_poll(shop, op_id)["url"])
    current = None
    for line in lines:
        if "__parentId" in line:
            assert line["__parentId"] == current
        else:
            current = line["id"]


def test_nodes_form_and_first_after_are_ignored(shop: Shop) -> None:
    for index in range(5):
        shop.fake.add_customer(f"C{index}")
    query = '{ customers(first: 2, after: "whatever") { nodes { id firstName } } }'
    op_id = _run(shop, query)["bulkOperation"]["id"]
    _poll(shop, op_id)
    lines = _download(_poll(shop, op_id)["url"])
    assert [line["firstName"] for line in lines] == [f"C{i}" for i in range(5)]


def test_no_results_means_no_url(shop: Shop) -> None:
    op_id = _run(shop, "{ orders { edges { node { id } } } }")["bulkOperation"]["id"]
    _poll(shop, op_id)
    done = _poll(shop, op_id)
    assert done["status"] == "COMPLETED"
    assert (done["url"], done["fileSize"], done["objectCount"]) == (None, None, "0")


def test_failed_with_partial_data(shop: Shop) -> None:
    _orders_with_items(shop.fake, 12)
    shop.fake.fail_next_bulk_operation("TIMEOUT", partial_lines=7)
    op_id = _run(shop, ORDERS_BULK)["bulkOperation"]["id"]
    _poll(shop, op_id)
    failed = _poll(shop, op_id)
    assert (failed["status"], failed["errorCode"], failed["url"]) == ("FAILED", "TIMEOUT", None)
    assert failed["completedAt"] is None
    assert failed["objectCount"] == "7"
    partial = _download(failed["partialDataUrl"])
    assert len(partial) == 7

    shop.fake.fail_next_bulk_operation()  # INTERNAL_SERVER_ERROR, no partial data
    op_id = _run(shop, ORDERS_BULK)["bulkOperation"]["id"]
    _poll(shop, op_id)
    failed = _poll(shop, op_id)
    assert (failed["errorCode"], failed["partialDataUrl"]) == ("INTERNAL_SERVER_ERROR", None)


def test_access_denied_when_the_scope_is_missing(shop: Shop) -> None:
    shop.fake.add_customer()
    shop.fake.drop_scope("read_customers")
    op_id = _run(shop, "{ customers { edges { node { id } } } }")["bulkOperation"]["id"]
    _poll(shop, op_id)
    assert _poll(shop, op_id)["errorCode"] == "ACCESS_DENIED"


def test_five_concurrent_operations(shop: Shop) -> None:
    query = "{ customers { edges { node { id } } } }"
    ids = [_run(shop, query)["bulkOperation"]["id"] for _ in range(5)]
    sixth = _run(shop, query)
    assert sixth == {
        "bulkOperation": None,
        "userErrors": [
            {
                "field": None,
                "message": (
                    "A bulk query operation for this app and shop is already in progress: "
                    f"{ids[0]}."
                ),
                "code": "OPERATION_IN_PROGRESS",
            }
        ],
    }
    _poll(shop, ids[0])
    _poll(shop, ids[0])  # completes: a slot frees up
    assert _run(shop, query)["userErrors"] == []


def test_cancel(shop: Shop) -> None:
    op_id = _run(shop, "{ customers { edges { node { id } } } }")["bulkOperation"]["id"]
    cancel = shop.data(
        "mutation($id: ID!) { bulkOperationCancel(id: $id) { bulkOperation { id status } "
        "userErrors { field message } } }",
        {"id": op_id},
    )["bulkOperationCancel"]
    assert cancel == {"bulkOperation": {"id": op_id, "status": "CANCELING"}, "userErrors": []}
    assert _poll(shop, op_id)["status"] == "CANCELED"
    again = shop.data(
        "mutation($id: ID!) { bulkOperationCancel(id: $id) { userErrors { message } } }",
        {"id": op_id},
    )["bulkOperationCancel"]
    assert "cannot be canceled when it is canceled" in again["userErrors"][0]["message"]


def test_invalid_bulk_queries(shop: Shop) -> None:
    def errors(query: str) -> list[str]:
        payload = _run(shop, query)
        assert payload["bulkOperation"] is None
        assert all(
            e["code"] == "INVALID" and e["field"] == ["query"] for e in payload["userErrors"]
        )
        return [e["message"] for e in payload["userErrors"]]

    assert errors("{ shop { name } }") == ["Bulk queries must contain at least one connection."]
    assert errors("{ orders { edges { node { idd } } } }") == [
        "Invalid bulk query: Field 'idd' doesn't exist on type 'Order'"
    ]
    six = " ".join(f"c{i}: customers {{ edges {{ node {{ id }} }} }}" for i in range(6))
    assert errors(f"{{ {six} }}") == ["Bulk queries cannot contain more than 5 connections."]
    no_parent_id = "{ orders { edges { node { name lineItems { edges { node { id } } } } } } }"
    assert errors(no_parent_id)[0].startswith(
        "The parent 'node' field for a nested connection must select the 'id' field"
    )
    assert errors('{ node(id: "gid://shopify/Order/1") { id } }')[0].startswith(
        "Bulk queries cannot contain a top-level `node`"
    )
    assert errors("{ orders { edges { node { id } } ")[0].startswith(
        "Invalid bulk query: Syntax Error"
    )


def test_signed_url_is_checked(shop: Shop) -> None:
    shop.fake.add_customer()
    op_id = _run(shop, "{ customers { edges { node { id } } } }")["bulkOperation"]["id"]
    _poll(shop, op_id)
    url = _poll(shop, op_id)["url"]
    assert "X-Goog-Signature=" in url
    tampered = url.replace("X-Goog-Signature=", "X-Goog-Signature=00")
    response = httpx2.get(tampered)
    assert response.status_code == 403
    assert "SignatureDoesNotMatch" in response.text
    assert shop.fake.downloads == []
    assert len(_download(url)) == 1
    assert shop.fake.downloads == [url]


def test_completion_by_elapsed_seconds(fake: ShopifyFake) -> None:
    fake.bulk_seconds_until_done = 0.2
    fake.add_customer()
    with serve(fake) as shop:
        op_id = _run(shop, "{ customers { edges { node { id } } } }")["bulkOperation"]["id"]
        statuses = {_poll(shop, op_id)["status"] for _ in range(3)}
        assert statuses == {"RUNNING"}
        time.sleep(0.25)
        assert _poll(shop, op_id)["status"] == "COMPLETED"


def test_polls_and_mutation_cost(shop: Shop) -> None:
    op_id = _run(shop, "{ customers { edges { node { id } } } }")["bulkOperation"]["id"]
    shop.data(NODE_POLL, {"id": op_id})
    costs = [(r.requested_cost, r.cost) for r in shop.fake.requests]
    assert costs == [(10, 10), (1, 1)]
