"""BlazePos over real HTTP: partner_key + Authorization, the store, members (epoch-ms windows,
newest first), transactions (MM/dd/yyyy days or the other readings, UTC or shop days, end
inclusive or not, 100 per page, optional window cap), the three refund shapes, voids, faults."""

from __future__ import annotations

from datetime import timedelta

import httpx2
import pytest

from tests.pos_fake import BlazePos
from tests.pos_fake.common import epoch_ms
from tests.pos_fake_tests.support import NOW, serve

STORE = "/api/v1/partner/store"
MEMBERS = "/api/v1/partner/members"
TRANSACTIONS = "/api/v1/partner/transactions"


@pytest.fixture
def fake() -> BlazePos:
    return BlazePos(now=NOW)


def test_auth_headers(fake: BlazePos) -> None:
    with serve(fake) as (_, client):
        assert client.get(MEMBERS).status_code == 401
        only_partner = client.get(MEMBERS, headers={"partner_key": fake.partner_key})
        assert only_partner.status_code == 401
        assert only_partner.json()["message"] == "Invalid dispensary key."
        assert set(only_partner.json()) == {"field", "message", "errorType"}
        bearer = {"partner_key": fake.partner_key, "Authorization": f"Bearer {fake.dispensary_key}"}
        assert client.get(MEMBERS, headers=bearer).status_code == 401
        ok = client.get(MEMBERS, headers=fake.headers)
        assert ok.json() == {"values": [], "skip": 0, "limit": 500, "total": 0}


def test_members_window_on_modified_and_skip_limit(fake: BlazePos) -> None:
    made = [fake.add_member(modified=NOW - timedelta(hours=h)) for h in (30, 20, 10, 5, 1)]
    assert made[0]["modified"] == epoch_ms(NOW - timedelta(hours=30))
    assert made[0]["textOptIn"] is False and made[0]["enableLoyalty"] is False
    with serve(fake, fake.headers) as (_, client):
        start = str(epoch_ms(NOW - timedelta(hours=20)))
        end = str(epoch_ms(NOW - timedelta(hours=5)))
        body = client.get(MEMBERS, params={"startDate": start, "endDate": end}).json()
        assert body["total"] == 3  # both ends inclusive
        # Newest modified first (the live sample's order).
        assert [m["id"] for m in body["values"]] == [m["id"] for m in reversed(made[1:4])]
        first = client.get(MEMBERS, params={"skip": 0, "limit": 2}).json()
        rest = client.get(MEMBERS, params={"skip": 2, "limit": 2}).json()
        last = client.get(MEMBERS, params={"skip": 4, "limit": 2}).json()
        assert (first["skip"], first["limit"], first["total"]) == (0, 2, 5)
        got = [m["id"] for b in (first, rest, last) for m in b["values"]]
        assert got == [m["id"] for m in reversed(made)]
        assert client.get(MEMBERS, params={"skip": 10}).json()["values"] == []
        assert client.get(MEMBERS, params={"limit": 5000}).json()["limit"] == 500


def test_members_ascending_switch() -> None:
    fake = BlazePos(now=NOW, members_order="asc")
    made = [fake.add_member(modified=NOW - timedelta(hours=h)) for h in (3, 2, 1)]
    with serve(fake, fake.headers) as (_, client):
        values = client.get(MEMBERS).json()["values"]
        assert [m["id"] for m in values] == [m["id"] for m in made]


@pytest.mark.parametrize("value", ["2026-05-01T00:00:00Z", "05/01/2026", "2026-05-01", "1e12"])
def test_member_dates_must_be_epoch_ms(fake: BlazePos, value: str) -> None:
    with serve(fake, fake.headers) as (_, client):
        response = client.get(MEMBERS, params={"startDate": value})
        assert response.status_code == 400
        assert response.json()["field"] == "startDate"
        assert set(response.json()) == {"field", "message", "errorType"}


@pytest.mark.parametrize(
    ("mode", "good", "bad"),
    [
        (
            "us_date",
            "05/15/2026",
            ["2026-05-15", "2026-05-15T00:00:00Z", "1778803200000", "5/15/26"],
        ),
        ("epoch_ms", "1778803200000", ["05/15/2026", "2026-05-15", "2026-05-15T00:00:00Z"]),
        ("iso", "2026-05-15", ["05/15/2026", "1778803200000", "yesterday"]),
        ("iso", "2026-05-15T00:00:00Z", ["2026-5-15"]),
    ],
)
def test_transaction_date_formats(mode: str, good: str, bad: list[str]) -> None:
    fake = BlazePos(now=NOW, transaction_dates=mode)  # type: ignore[arg-type]
    sale = fake.add_transaction(None, completed=NOW - timedelta(hours=1))
    with serve(fake, fake.headers) as (_, client):
        ok = client.get(TRANSACTIONS, params={"startDate": good})
        assert ok.status_code == 200, ok.text
        assert [t["id"] for t in ok.json()["values"]] == [sale["id"]]
        for value in bad:
            for name in ("startDate", "endDate"):
                response = client.get(TRANSACTIONS, params={name: value})
                assert response.status_code == 400, (name, value)
                assert response.json()["field"] == name
                assert response.json()["errorType"] == "BadRequest"


def test_transaction_days_in_utc_or_in_the_shop_zone() -> None:
    # modified 2026-05-15T03:00:50Z: May 15th in UTC, May 14th in Los Angeles.
    when = NOW.replace(hour=3) - timedelta(seconds=50)
    utc = BlazePos(now=NOW)
    shop = BlazePos(now=NOW, date_zone="shop")
    for fake in (utc, shop):
        fake.add_transaction(None, completed=when)
    params = {"startDate": "05/15/2026", "endDate": "05/15/2026"}
    with serve(utc, utc.headers) as (_, client):
        assert client.get(TRANSACTIONS, params=params).json()["total"] == 1
    with serve(shop, shop.headers) as (_, client):
        assert client.get(TRANSACTIONS, params=params).json()["total"] == 0
        may14 = {"startDate": "05/14/2026", "endDate": "05/14/2026"}
        assert client.get(TRANSACTIONS, params=may14).json()["total"] == 1


def test_transaction_end_date_inclusive_or_exclusive() -> None:
    when = NOW - timedelta(days=1)  # 2026-05-14
    inclusive, exclusive = BlazePos(now=NOW), BlazePos(now=NOW, end_inclusive=False)
    for fake in (inclusive, exclusive):
        fake.add_transaction(None, completed=when)
    params = {"startDate": "05/13/2026", "endDate": "05/14/2026"}
    with serve(inclusive, inclusive.headers) as (_, client):
        assert client.get(TRANSACTIONS, params=params).json()["total"] == 1
        same_day = {"startDate": "05/14/2026", "endDate": "05/14/2026"}
        assert client.get(TRANSACTIONS, params=same_day).json()["total"] == 1
    with serve(exclusive, exclusive.headers) as (_, client):
        assert client.get(TRANSACTIONS, params=params).json()["total"] == 0
        wider = {"startDate": "05/14/2026", "endDate": "05/15/2026"}
        assert client.get(TRANSACTIONS, params=wider).json()["total"] == 1
        backwards = {"startDate": "05/15/2026", "endDate": "05/14/2026"}
        assert client.get(TRANSACTIONS, params=backwards).status_code == 400


def test_transactions_at_most_100_per_page_members_500(fake: BlazePos) -> None:
    for index in range(120):
        fake.add_transaction(None, completed=NOW - timedelta(minutes=index + 1))
    for _ in range(3):
        fake.add_member()
    with serve(fake, fake.headers) as (_, client):
        first = client.get(TRANSACTIONS, params={"limit": 500}).json()
        assert (len(first["values"]), first["limit"], first["total"]) == (100, 100, 120)
        rest = client.get(TRANSACTIONS, params={"skip": 100, "limit": 500}).json()
        assert (len(rest["values"]), rest["skip"]) == (20, 100)
        assert client.get(TRANSACTIONS).json()["limit"] == 100
        assert client.get(TRANSACTIONS, params={"limit": 10}).json()["limit"] == 10
        assert client.get(MEMBERS, params={"limit": 500}).json()["limit"] == 500


def test_optional_transaction_window_cap() -> None:
    fake = BlazePos(now=NOW, max_window_days=7)
    with serve(fake, fake.headers) as (_, client):
        week = {"startDate": "05/01/2026", "endDate": "05/08/2026"}
        assert client.get(TRANSACTIONS, params=week).status_code == 200
        longer = {"startDate": "05/01/2026", "endDate": "05/09/2026"}
        response = client.get(TRANSACTIONS, params=longer)
        assert response.status_code == 400
        assert "7 days" in response.json()["message"]
        # No endDate: measured up to now.
        assert client.get(TRANSACTIONS, params={"startDate": "05/01/2026"}).status_code == 400
        assert client.get(TRANSACTIONS, params={"startDate": "05/10/2026"}).status_code == 200
        # Members are not capped.
        assert client.get(MEMBERS, params={"startDate": "0"}).status_code == 200


def test_store_info(fake: BlazePos) -> None:
    with serve(fake) as (_, client):
        assert client.get(STORE).status_code == 401
        body = client.get(STORE, headers=fake.headers).json()
    assert set(body) == {"shop", "contract", "toleranceMap", "companyLogoURL"}
    assert (body["contract"], body["toleranceMap"], body["companyLogoURL"]) == (None, {}, None)
    shop = body["shop"]
    assert (shop["id"], shop["name"], shop["companyId"], shop["timeZone"]) == (
        "shop_1",
        "Example Dispensary - Las Vegas",
        "co_1",
        "America/Los_Angeles",
    )
    assert shop["timezoneOffsetInMinutes"] == -420
    assert set(shop["address"]) == {
        "address",
        "addressLine2",
        "city",
        "state",
        "zipCode",
        "country",
    }
    assert shop["address"]["state"] == "NV"
    assert shop["phoneNumber"]


def test_transactions_window_and_sale_shape(fake: BlazePos) -> None:
    member = fake.add_member()
    sale = fake.add_transaction(
        member["id"], items=[("prod_1", 1, 45.0)], completed=NOW - timedelta(hours=3)
    )
    assert sale["cart"]["total"] == 51.3
    assert (sale["status"], sale["transType"], sale["transactionRefundStatus"]) == (
        "Completed",
        "Sale",
        "None",
    )
    assert sale["modified"] == sale["completedTime"] + 50_000
    with serve(fake, fake.headers) as (_, client):
        body = client.get(
            TRANSACTIONS, params={"startDate": "05/15/2026", "endDate": "05/15/2026"}
        ).json()
        assert [t["id"] for t in body["values"]] == [sale["id"]]
        none = client.get(TRANSACTIONS, params={"startDate": "05/16/2026"}).json()
        assert none["total"] == 0
        item = body["values"][0]["cart"]["items"][0]
        assert item["productSku"] == "SKU-1"
        assert "sku" not in item


def test_refund_shape_separate_transaction(fake: BlazePos) -> None:
    sale = fake.add_transaction(
        None, items=[("prod_1", 1, 45.0)], completed=NOW - timedelta(days=1)
    )
    refund = fake.add_refund_transaction(sale["id"], 51.3)
    assert refund["transType"] == "Refund"
    assert refund["parentTransactionId"] == sale["id"]
    assert (refund["cart"]["subTotal"], refund["cart"]["tax"], refund["cart"]["total"]) == (
        -45.0,
        -6.3,
        -51.3,
    )
    with pytest.raises(ValueError, match="cannot refund"):
        fake.refund_original(sale["id"], 1)
    with serve(fake, fake.headers) as (_, client):
        values = client.get(TRANSACTIONS).json()["values"]
        assert [t["transType"] for t in values] == ["Sale", "Refund"]
        assert values[0]["status"] == "Completed"


def test_refund_shape_status_change_is_cumulative(fake: BlazePos) -> None:
    sale = fake.add_transaction(
        None, items=[("prod_1", 2, 45.0)], completed=NOW - timedelta(days=1)
    )
    total = sale["cart"]["total"]
    fake.advance(minutes=10)
    partial = fake.refund_original(sale["id"], 30)
    assert partial["status"] == "RefundWithInventory"
    assert partial["transactionRefundStatus"] == "Partial_Refund"
    assert partial["cart"]["refundAmount"] == 30.0
    assert partial["modified"] == epoch_ms(NOW + timedelta(minutes=10))
    complete = fake.refund_original(sale["id"], round(total - 30, 2), with_inventory=False)
    assert complete["status"] == "RefundWithoutInventory"
    assert complete["transactionRefundStatus"] == "Complete_Refund"
    assert complete["cart"]["refundAmount"] == total
    assert len(fake.transactions) == 1
    with serve(fake, fake.headers) as (_, client):
        recent = client.get(TRANSACTIONS, params={"startDate": "05/15/2026"}).json()
        assert [t["id"] for t in recent["values"]] == [sale["id"]]  # re-surfaces via modified


def test_refund_shape_items(fake: BlazePos) -> None:
    sale = fake.add_transaction(
        None, items=[("prod_1", 1, 45.0), ("prod_2", 2, 20.0)], completed=NOW - timedelta(days=1)
    )
    after = fake.refund_items(sale["id"], [1])
    items = after["cart"]["items"]
    assert [i["status"] for i in items] == ["Active", "Refunded"]
    assert items[1]["totalRefundAmount"] == 45.6
    assert items[1]["totalRefundQty"] == 2
    assert after["status"] == "Completed"  # items only
    both = fake.refund_items(sale["id"], [0], set_status=True)
    assert both["transactionRefundStatus"] == "Partial_Refund"
    assert both["cart"]["refundAmount"] == 51.3


def test_void(fake: BlazePos) -> None:
    sale = fake.add_transaction(None, completed=NOW - timedelta(days=1))
    voided = fake.void(sale["id"])
    assert voided["status"] == "Void"
    assert voided["voidDate"] == voided["modified"] == epoch_ms(NOW)


def test_generate(fake: BlazePos) -> None:
    counts = fake.generate(120, 400, seed=9)
    assert counts["members"] == 120
    for key in ("refund_transactions", "refund_status", "refund_items", "voids"):
        assert counts[key] > 0, key
    members = list(fake.members.values())
    assert any(m["enableLoyalty"] and not m["textOptIn"] for m in members)
    assert any(m["cpn"] is None for m in members)
    txs = list(fake.transactions.values())
    assert any(t["transType"] == "Refund" and t["parentTransactionId"] for t in txs)
    assert any(t["transactionRefundStatus"] in ("Partial_Refund", "Complete_Refund") for t in txs)
    assert any(i["status"] == "Refunded" for t in txs for i in t["cart"]["items"])
    with serve(fake, fake.headers) as (_, client):
        seen = 0
        skip = 0
        while True:
            body = client.get(TRANSACTIONS, params={"skip": skip, "limit": 100}).json()
            seen += len(body["values"])
            if len(body["values"]) < 100:
                break
            skip += 100
        assert seen == len(txs)


def test_faults(fake: BlazePos) -> None:
    with serve(fake, fake.headers) as (_, client):
        fake.html_error_next = 1
        assert client.get(MEMBERS).headers["content-type"].startswith("text/html")
        fake.server_errors_next = 1
        assert client.get(MEMBERS).status_code == 503
        fake.missing_selector_next = 1
        assert "values" not in client.get(TRANSACTIONS).json()
        assert "values" in client.get(TRANSACTIONS).json()
    assert fake.requests[0].headers["partner_key"] == fake.partner_key
    assert fake.requests[0].headers["authorization"] == fake.dispensary_key


def test_drop_connection_and_rate_limit(fake: BlazePos) -> None:
    with serve(fake, fake.headers) as (_, client):
        fake.drop_connection_next = 1
        with pytest.raises(httpx2.TransportError):
            client.get(STORE)
        fake.rate_limited_next = 1
        assert client.get(TRANSACTIONS).headers["retry-after"] == "1"
        assert client.get(STORE).status_code == 200
    assert fake.statuses == [0, 429, 200]
