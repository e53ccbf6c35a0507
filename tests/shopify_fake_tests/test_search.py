"""The ``query:`` search syntax and its quirks (shop time zone: America/New_York)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.shopify_fake import ShopifyFake
from tests.shopify_fake_tests.conftest import NOW
from tests.shopify_fake_tests.support import Shop


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


ORDER_TIMES = {
    "A": "2026-09-10T10:00:00Z",
    "B": "2026-09-10T14:00:00Z",
    "C": "2026-09-10T15:00:00Z",
    "D": "2026-09-11T01:00:00Z",  # 2026-09-10 21:00 in New York
    "E": "2026-09-11T05:00:00Z",  # 2026-09-11 01:00 in New York
}


@pytest.fixture
def orders(fake: ShopifyFake) -> dict[str, str]:
    """Orders A..E updated at ORDER_TIMES; name → gid."""
    made = {}
    for label, stamp in ORDER_TIMES.items():
        fake.set_now(_at(stamp))
        made[f"gid://shopify/Order/{fake.add_order(note=label).id}"] = label
    fake.set_now(NOW)
    return made


def _labels(shop: Shop, orders: dict[str, str], search: str) -> str:
    data = shop.data(
        "query($q: String) { orders(first: 50, query: $q, sortKey: UPDATED_AT) { nodes { id } } }",
        {"q": search},
    )
    return "".join(orders[n["id"]] for n in data["orders"]["nodes"])


def test_quoted_timestamps_compare_instants(shop: Shop, orders: dict[str, str]) -> None:
    window = "updated_at:>='2026-09-10T14:00:00Z' AND updated_at:<'2026-09-10T15:00:00Z'"
    assert _labels(shop, orders, window) == "B"
    assert _labels(shop, orders, 'updated_at:>="2026-09-10T14:00:00Z"') == "BCDE"
    assert _labels(shop, orders, "updated_at:<='2026-09-10T15:00:00Z'") == "ABC"
    # no offset: read in the shop's time zone (10:00 New York = 14:00Z)
    assert _labels(shop, orders, "updated_at:>='2026-09-10T10:00:00'") == "BCDE"


def test_greater_than_behaves_like_greater_or_equal(shop: Shop, orders: dict[str, str]) -> None:
    assert _labels(shop, orders, "updated_at:>'2026-09-10T14:00:00Z'") == "BCDE"


def test_unquoted_timestamps_drop_the_time(shop: Shop, orders: dict[str, str]) -> None:
    # the same window as above, unquoted: both ends become 2026-09-10 → nothing matches
    window = "updated_at:>=2026-09-10T14:00:00Z AND updated_at:<2026-09-10T15:00:00Z"
    assert _labels(shop, orders, window) == ""
    # the date is compared with the record's date in the shop's zone: D is the 10th there
    assert _labels(shop, orders, "updated_at:>=2026-09-10T14:00:00Z") == "ABCDE"
    assert _labels(shop, orders, "updated_at:<2026-09-11T03:00:00Z") == "ABCD"
    assert _labels(shop, orders, "updated_at:>2019-12-01") == "ABCDE"


def test_customers_updated_at_matches_whole_days(shop: Shop) -> None:
    fake = shop.fake
    ids = {}
    for label, stamp in {
        "x": "2026-09-10T03:00:00Z",  # 2026-09-09 in New York
        "y": "2026-09-10T14:00:00Z",
        "z": "2026-09-11T12:00:00Z",
    }.items():
        ids[f"gid://shopify/Customer/{fake.add_customer(label, created_at=_at(stamp)).id}"] = label

    def labels(search: str) -> str:
        data = shop.data(
            "query($q: String) { customers(first: 50, query: $q, sortKey: UPDATED_AT) "
            "{ nodes { id } } }",
            {"q": search},
        )
        return "".join(ids[n["id"]] for n in data["customers"]["nodes"])

    # quoted, and still whole days: y (14:00Z) is included although before 20:00Z
    assert labels("updated_at:>='2026-09-10T20:00:00Z'") == "yz"
    assert labels("updated_at:<'2026-09-10T20:00:00Z'") == "x"
    assert labels("updated_at:'2026-09-10T05:00:00Z'") == "y"
    assert labels("updated_at:>='2026-09-01'") == "xyz"


def test_empty_value_is_an_internal_error(shop: Shop, orders: dict[str, str]) -> None:
    for search in ("updated_at:>", "updated_at:>= AND test:false", "updated_at:''"):
        body = shop.gql(
            "query($q: String) { orders(first: 5, query: $q) { nodes { id } } }", {"q": search}
        )
        assert "data" not in body, search
        assert body["errors"][0]["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
        assert body["errors"][0]["extensions"]["requestId"]
        assert body["errors"][0]["message"] == (
            "Internal error. Looks like something went wrong on our end."
        )


def test_unknown_filters_and_bad_values_are_ignored(shop: Shop, orders: dict[str, str]) -> None:
    assert _labels(shop, orders, "colour:blue") == "ABCDE"
    assert _labels(shop, orders, "updated_at:>=yesterday") == "ABCDE"
    assert _labels(shop, orders, "bob") == "ABCDE"


def test_connectives_and_other_filters(shop: Shop, orders: dict[str, str]) -> None:
    fake = shop.fake
    test_order = fake.add_order(test=True, source_name="pos", note="T")
    orders[f"gid://shopify/Order/{test_order.id}"] = "T"
    assert _labels(shop, orders, "test:true") == "T"
    assert _labels(shop, orders, "test:false updated_at:<'2026-09-10T15:00:00Z'") == "AB"
    b_or_e = (
        "updated_at:'2026-09-10T14:00:00Z' OR updated_at:>='2026-09-11T05:00:00Z' AND test:false"
    )
    assert _labels(shop, orders, b_or_e) == "BE"
    assert _labels(shop, orders, "source_name:pos") == "T"
    assert (
        _labels(shop, orders, "-source_name:pos AND NOT updated_at:<'2026-09-11T00:00:00Z'") == "DE"
    )
    assert _labels(shop, orders, "-source_name:pos AND NOT updated_at:<'2026-09-11'") == "E"
    assert (
        _labels(
            shop, orders, "(test:true OR source_name:web) AND created_at:>='2026-09-11T02:00:00Z'"
        )
        == "ET"
    )
    assert _labels(shop, orders, "updated_at:<now AND test:false") == "ABCDE"


def test_without_read_all_orders_only_60_days(shop: Shop) -> None:
    fake = shop.fake
    old = fake.add_order(created_at=NOW - timedelta(days=61))
    recent = fake.add_order(created_at=NOW - timedelta(days=59))
    query = "{ orders(first: 10) { nodes { id } } }"
    assert len(shop.data(query)["orders"]["nodes"]) == 2
    fake.drop_scope("read_all_orders")
    ids = [n["id"] for n in shop.data(query)["orders"]["nodes"]]
    assert ids == [f"gid://shopify/Order/{recent.id}"]
    lookup = shop.data(
        "query($id: ID!) { order(id: $id) { id } }", {"id": f"gid://shopify/Order/{old.id}"}
    )
    assert lookup == {"order": None}
