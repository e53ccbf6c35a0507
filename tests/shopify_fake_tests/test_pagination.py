"""Cursor pagination: Shopify-shaped cursors, sort keys, keyset semantics, limits."""

from __future__ import annotations

from datetime import timedelta

from tests.shopify_fake import ShopifyFake
from tests.shopify_fake_tests.conftest import NOW
from tests.shopify_fake_tests.support import Shop, decode_cursor, walk


def _orders(fake: ShopifyFake, count: int) -> None:
    for index in range(count):
        fake.set_now(NOW - timedelta(hours=count - index))
        fake.add_order(total=f"{10 + index}.00", processed_at=NOW - timedelta(days=index))
    fake.set_now(NOW)


def test_walk_by_updated_at_returns_everything_in_order(shop: Shop) -> None:
    _orders(shop.fake, 23)
    nodes = walk(shop, "orders", "id updatedAt", args="sortKey: UPDATED_AT", page_size=5)
    assert len(nodes) == 23
    assert len({n["id"] for n in nodes}) == 23
    keys = [(n["updatedAt"], int(n["id"].rsplit("/", 1)[1])) for n in nodes]
    assert keys == sorted(keys)


def test_default_order_sort_is_processed_at(shop: Shop) -> None:
    _orders(shop.fake, 4)  # processedAt goes back in time as ids grow
    nodes = shop.data("{ orders(first: 10) { nodes { id processedAt } } }")["orders"]["nodes"]
    stamps = [n["processedAt"] for n in nodes]
    assert stamps == sorted(stamps)
    assert [n["id"] for n in nodes] == [f"gid://shopify/Order/{o.id}" for o in shop.fake.orders][
        ::-1
    ]


def test_cursor_shape_matches_shopify(shop: Shop) -> None:
    _orders(shop.fake, 3)
    edges = shop.data("{ orders(first: 3, sortKey: UPDATED_AT) { edges { cursor node { id } } } }")
    cursor = decode_cursor(edges["orders"]["edges"][0]["cursor"])
    first = shop.fake.orders[0]
    assert cursor == {
        "last_id": first.id,
        "last_value": first.updated_at.strftime("%Y-%m-%d %H:%M:%S.000000"),
    }
    by_id = shop.data("{ customers(first: 1) { edges { cursor } } }")
    assert by_id["customers"]["edges"] == []  # no customers: no cursors


def test_page_info(shop: Shop) -> None:
    _orders(shop.fake, 5)
    query = (
        "query($after: String) { orders(first: 2, after: $after, sortKey: ID) "
        "{ pageInfo { hasNextPage hasPreviousPage startCursor endCursor } nodes { id } } }"
    )
    first = shop.data(query)["orders"]["pageInfo"]
    assert (first["hasNextPage"], first["hasPreviousPage"]) == (True, False)
    second = shop.data(query, {"after": first["endCursor"]})["orders"]["pageInfo"]
    assert (second["hasNextPage"], second["hasPreviousPage"]) == (True, True)
    third = shop.data(query, {"after": second["endCursor"]})["orders"]
    assert len(third["nodes"]) == 1
    assert third["pageInfo"]["hasNextPage"] is False
    empty = shop.data(
        '{ orders(first: 2, query: "test:true") '
        "{ pageInfo { startCursor endCursor hasNextPage } } }"
    )
    assert empty["orders"]["pageInfo"] == {
        "startCursor": None,
        "endCursor": None,
        "hasNextPage": False,
    }


def test_cursor_is_only_valid_for_its_query_and_sort_key(shop: Shop) -> None:
    _orders(shop.fake, 4)
    page = shop.data(
        '{ orders(first: 2, sortKey: UPDATED_AT, query: "test:false") { pageInfo { endCursor } } }'
    )
    cursor = page["orders"]["pageInfo"]["endCursor"]
    same = shop.gql(
        "query($c: String) { orders(first: 2, after: $c, sortKey: UPDATED_AT, "
        'query: "test:false") { nodes { id } } }',
        {"c": cursor},
    )
    assert "errors" not in same
    for other in (
        'orders(first: 2, after: $c, sortKey: CREATED_AT, query: "test:false")',
        "orders(first: 2, after: $c, sortKey: UPDATED_AT)",
        "customers(first: 2, after: $c, sortKey: UPDATED_AT)",
    ):
        body = shop.gql(f"query($c: String) {{ {other} {{ nodes {{ id }} }} }}", {"c": cursor})
        assert body["data"] is None
        assert body["errors"][0]["message"].startswith("Invalid cursor for after"), other
    garbage = shop.gql('{ orders(first: 2, after: "bm90IGEgY3Vyc29y") { nodes { id } } }')
    assert garbage["errors"][0]["path"] == ["orders"]


def test_keyset_pagination_moves_updated_records(shop: Shop) -> None:
    """An order updated mid-walk jumps to the end of an UPDATED_AT walk (as on Shopify)."""
    _orders(shop.fake, 6)
    query = (
        "query($after: String) { orders(first: 3, after: $after, sortKey: UPDATED_AT) "
        "{ pageInfo { endCursor } nodes { id } } }"
    )
    first = shop.data(query)["orders"]
    early = shop.fake.orders[0]
    shop.fake.advance(minutes=5)
    shop.fake.touch_order(early)
    ids = [n["id"] for n in first["nodes"]]
    after = first["pageInfo"]["endCursor"]
    while after is not None:
        page = shop.data(query, {"after": after})["orders"]
        ids += [n["id"] for n in page["nodes"]]
        after = page["pageInfo"]["endCursor"]
    assert len(ids) == 7
    assert ids[-1] == f"gid://shopify/Order/{early.id}"
    assert ids.count(f"gid://shopify/Order/{early.id}") == 2  # seen twice: dedupe by id


def test_page_size_limits(shop: Shop) -> None:
    too_big = shop.gql("{ orders(first: 251) { nodes { id } } }")
    assert too_big["data"] is None
    assert "250" in too_big["errors"][0]["message"]
    assert too_big["errors"][0]["path"] == ["orders"]
    neither = shop.gql("{ orders { nodes { id } } }")
    assert neither["errors"][0]["message"] == "you must provide one of first or last"
    assert "errors" not in shop.gql("{ orders(first: 250) { nodes { id } } }")


def test_reverse_and_last_before(shop: Shop) -> None:
    _orders(shop.fake, 5)
    ids = [f"gid://shopify/Order/{o.id}" for o in shop.fake.orders]
    reverse = shop.data("{ orders(first: 5, sortKey: ID, reverse: true) { nodes { id } } }")
    assert [n["id"] for n in reverse["orders"]["nodes"]] == ids[::-1]
    last = shop.data(
        "{ orders(last: 2, sortKey: ID) { pageInfo { hasPreviousPage startCursor } nodes { id } } }"
    )["orders"]
    assert [n["id"] for n in last["nodes"]] == ids[-2:]
    assert last["pageInfo"]["hasPreviousPage"] is True
    before = shop.data(
        "query($c: String) { orders(last: 2, before: $c, sortKey: ID) { nodes { id } } }",
        {"c": last["pageInfo"]["startCursor"]},
    )
    assert [n["id"] for n in before["orders"]["nodes"]] == ids[1:3]


def test_nested_line_items_paginate(shop: Shop) -> None:
    order = shop.fake.add_order(line_items=[(f"SKU-{i}", 1) for i in range(5)])
    query = (
        "query($id: ID!, $after: String) { order(id: $id) { lineItems(first: 2, after: $after) "
        "{ pageInfo { hasNextPage endCursor } nodes { sku } } } }"
    )
    gid = f"gid://shopify/Order/{order.id}"
    skus, after = [], None
    while True:
        page = shop.data(query, {"id": gid, "after": after})["order"]["lineItems"]
        skus += [n["sku"] for n in page["nodes"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert skus == [f"SKU-{i}" for i in range(5)]


def test_locations_active_only_unless_include_inactive(shop: Shop) -> None:
    shop.fake.add_location("Open Store")
    closed = shop.fake.add_location("Closed Store")
    shop.fake.deactivate_location(closed)
    shop.fake.add_location("3PL", legacy=True)
    query = (
        "query($i: Boolean) { locations(first: 10, includeInactive: $i) "
        "{ nodes { name isActive } } }"
    )
    active = shop.data(query)["locations"]["nodes"]
    assert active == [{"name": "Open Store", "isActive": True}]
    everything = shop.data(query, {"i": True})["locations"]["nodes"]
    assert [n["name"] for n in everything] == ["Closed Store", "Open Store"]  # sortKey NAME
    legacy = shop.data("{ locations(first: 10, includeLegacy: true) { nodes { name } } }")
    assert {n["name"] for n in legacy["locations"]["nodes"]} == {"Open Store", "3PL"}


def test_customers_default_sort_is_id(shop: Shop) -> None:
    late = shop.fake.add_customer("Zed", "Zulu", created_at=NOW - timedelta(days=1))
    early = shop.fake.add_customer("Amy", "Alpha", created_at=NOW - timedelta(days=9))
    nodes = shop.data("{ customers(first: 5) { nodes { id } } }")["customers"]["nodes"]
    assert [n["id"] for n in nodes] == [f"gid://shopify/Customer/{c.id}" for c in (late, early)]
    by_name = shop.data("{ customers(first: 5, sortKey: NAME) { nodes { firstName } } }")
    assert [n["firstName"] for n in by_name["customers"]["nodes"]] == ["Amy", "Zed"]
