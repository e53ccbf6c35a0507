"""FlowhubPos over real HTTP: clientId/key headers, customers paging, day bounds and
envelopes, /v0/clientsLocations (and no /v0/locations), orders by store-local creation DATE
(ISO → 404), cents or dollars, refunds, voids, faults."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx2
import pytest

from tests.pos_fake import FlowhubPos
from tests.pos_fake_tests.support import NOW, serve

ORDERS = "/v1/orders/findByLocationId/imp_1"


@pytest.fixture
def fake() -> FlowhubPos:
    return FlowhubPos(now=NOW)


def test_auth_headers(fake: FlowhubPos) -> None:
    with serve(fake) as (_, client):
        assert client.get("/v1/customers/").status_code == 401
        wrong = client.get("/v1/customers/", headers={"clientId": fake.client_id, "key": "x"})
        assert wrong.status_code == 401
        bearer = client.get("/v1/customers/", headers={"Authorization": f"Bearer {fake.api_key}"})
        assert bearer.status_code == 401
        ok = client.get("/v1/customers/", headers=fake.headers)
        assert ok.status_code == 200
        assert ok.json() == {"status": 200, "data": []}


def test_customers_paging_and_updated_after(fake: FlowhubPos) -> None:
    made = [
        fake.add_customer(
            updated_at=NOW - timedelta(days=days), created_at=NOW - timedelta(days=100 - i)
        )
        for i, days in enumerate((9, 1, 5, 2))
    ]
    assert made[0]["updatedAt"] == "2026-05-06T18:00:00.000Z"
    assert set(made[0]) >= {"name", "consentsToPromotionalSMS", "isLoyal"}
    with serve(fake, fake.headers) as (_, client):
        page1 = client.get("/v1/customers/", params={"page": 1, "page_size": 3}).json()
        page2 = client.get("/v1/customers/", params={"page": 2, "page_size": 3}).json()
        assert page1["status"] == 200
        assert [c["id"] for c in page1["data"] + page2["data"]] == [c["id"] for c in made]
        recent = client.get("/v1/customers", params={"updated_after": "2026-05-13"}).json()
        assert [c["id"] for c in recent["data"]] == [made[1]["id"], made[3]["id"]]
        ordered = client.get("/v1/customers/", params={"order_by": "-updatedAt"}).json()
        assert ordered["data"][0]["id"] == made[1]["id"]
        desc = client.get("/v1/customers/", params={"order_by": "desc"}).json()
        assert [c["id"] for c in desc["data"]] == [c["id"] for c in reversed(made)]
        assert "loyaltyPointsInPennies" not in page1["data"][0]
        with_store = client.get("/v1/customers/", params={"store_id": "loc_1"}).json()
        assert "loyaltyPointsInPennies" in with_store["data"][0]
        past = client.get("/v1/customers/", params={"page": 9}).json()
        assert past == {"status": 200, "data": []}


@pytest.mark.parametrize(
    "name", ["updated_after", "updated_before", "created_after", "created_before"]
)
@pytest.mark.parametrize("value", ["2026-05-12T18:00:00.000Z", "2026-05-12T00:00:00", "soon"])
def test_customer_date_bounds_must_be_days(fake: FlowhubPos, name: str, value: str) -> None:
    with serve(fake, fake.headers) as (_, client):
        response = client.get("/v1/customers/", params={name: value})
        assert response.status_code == 404
        assert response.json() == {"message": f"{name} must be in format yyyy-mm-dd"}


def test_customer_days_are_read_in_the_org_time_zone() -> None:
    fake = FlowhubPos(now=NOW, timezone="America/New_York")
    # 2026-05-13T02:30Z is still May 12th in New York.
    late = fake.add_customer(updated_at=datetime(2026, 5, 13, 2, 30, tzinfo=UTC))
    next_day = fake.add_customer(updated_at=datetime(2026, 5, 13, 4, 30, tzinfo=UTC))
    with serve(fake, fake.headers) as (_, client):
        may12 = client.get(
            "/v1/customers/", params={"updated_after": "2026-05-12", "updated_before": "2026-05-13"}
        ).json()["data"]
        assert [c["id"] for c in may12] == [late["id"]]
        may13 = client.get("/v1/customers/", params={"updated_after": "2026-05-13"}).json()
        assert [c["id"] for c in may13["data"]] == [next_day["id"]]


@pytest.mark.parametrize(
    ("envelope", "expected"),
    [
        ("data", lambda rows: {"status": 200, "data": rows}),
        ("customers", lambda rows: {"total": 3, "customers": rows}),
        ("bare", lambda rows: rows),
    ],
)
def test_customers_envelopes(envelope: str, expected: Callable[[list[Any]], Any]) -> None:
    fake = FlowhubPos(now=NOW, customers_envelope=envelope)  # type: ignore[arg-type]
    made = sorted((fake.add_customer() for _ in range(3)), key=lambda c: (c["createdAt"], c["id"]))
    with serve(fake, fake.headers) as (_, client):
        page = client.get("/v1/customers/", params={"page": 1, "page_size": 2}).json()
        served = made[:2]
        for record in served:
            record.pop("loyaltyPointsInPennies")
        assert page == expected(served)
        past = client.get("/v1/customers/", params={"page": 3, "page_size": 2}).json()
        assert past == expected([])


def test_locations_are_clients_locations_only(fake: FlowhubPos) -> None:
    fake.add_location("Second Store", import_id="imp_two", timezone="America/New_York")
    with serve(fake, fake.headers) as (_, client):
        wrapped = client.get("/v0/clientsLocations").json()
        assert set(wrapped) == {"status", "data"}
        assert wrapped["status"] == 200
        assert [(loc["locationId"], loc["importId"]) for loc in wrapped["data"]] == [
            ("loc_1", "imp_1"),
            ("loc_2", "imp_two"),
        ]
        assert wrapped["data"][1]["timeZone"] == "America/New_York"
        assert set(wrapped["data"][0]["address"]) == {
            "streetAddress1",
            "streetAddress2",
            "city",
            "state",
            "zip",
            "county",
            "country",
        }
        # /v0/locations is per-location inventory, not a store list.
        assert client.get("/v0/locations").status_code == 404


def test_orders_filter_on_store_local_creation_date(fake: FlowhubPos) -> None:
    customer = fake.add_customer()
    # 2026-05-02T01:30Z is still May 1st in Los Angeles.
    evening = fake.add_order(
        customer["id"], created_at=datetime(2026, 5, 2, 1, 30, tzinfo=UTC), items=[("p1", 1, 20.0)]
    )
    next_day = fake.add_order(customer["id"], created_at=datetime(2026, 5, 2, 18, 0, tzinfo=UTC))
    assert evening["orderStatus"] == "sold"
    assert evening["totals"] == {
        "FinalTotal": 2340,
        "SubTotal": 2000,
        "TotalDiscounts": 0,
        "TotalFees": 0,
        "TotalTaxes": 340,
    }
    assert evening["payments"][0]["amount"] == 2340
    assert (evening["itemsInCart"][0]["unitPrice"], evening["itemsInCart"][0]["totalPrice"]) == (
        2000,
        2000,
    )
    assert evening["originalSaleId"] == ""
    with serve(fake, fake.headers) as (_, client):
        may1 = client.get(
            ORDERS, params={"created_after": "2026-05-01", "created_before": "2026-05-02"}
        ).json()
        assert may1 == {"total": 1, "orders": may1["orders"]}
        assert [o["id"] for o in may1["orders"]] == [evening["id"]]
        may2 = client.get(ORDERS, params={"created_after": "2026-05-02"}).json()
        assert [o["id"] for o in may2["orders"]] == [next_day["id"]]
        by_location_id = client.get(
            "/v1/orders/findByLocationId/loc_1", params={"created_after": "2026-05-01"}
        ).json()
        assert by_location_id["total"] == 2
        by_customer = client.get(f"/v1/orders/findByCustomerId/{customer['id']}").json()
        assert by_customer["total"] == 2


@pytest.mark.parametrize(
    "value", ["2026-05-01T00:00:00Z", "2026-05-01T00:00:00.000Z", "05/01/2026", "2026-5-1"]
)
def test_orders_reject_anything_but_a_date_with_404(fake: FlowhubPos, value: str) -> None:
    with serve(fake, fake.headers) as (_, client):
        response = client.get(ORDERS, params={"created_after": value})
        assert response.status_code == 404
        assert response.json() == {"message": "created_after must be in format yyyy-mm-dd"}
        assert client.get(ORDERS, params={"created_before": value}).status_code == 404


def test_unknown_location_404(fake: FlowhubPos) -> None:
    with serve(fake, fake.headers) as (_, client):
        assert client.get("/v1/orders/findByLocationId/nope").status_code == 404


def test_refunds_and_voids(fake: FlowhubPos) -> None:
    sale = fake.add_order(None, created_at=NOW - timedelta(days=2), items=[("p2", 2, 35.0)])
    assert sale["customerId"] == ""
    refund = fake.add_refund(sale["id"], 40.95)
    other = fake.add_order(None, created_at=NOW - timedelta(days=2))
    fake.void(other["id"])
    with pytest.raises(ValueError, match="cannot refund"):
        fake.add_refund(sale["id"], 100)
    with serve(fake, fake.headers) as (_, client):
        got = client.get(ORDERS, params={"created_after": "2026-05-13"}).json()["orders"]
        by_id = {o["id"]: o for o in got}
        assert set(by_id) == {sale["id"], refund["id"], other["id"]}
        r = by_id[refund["id"]]
        assert r["originalSaleId"] == sale["id"]
        assert r["totals"]["FinalTotal"] == -4095
        assert r["totals"]["SubTotal"] == -3500
        assert r["totals"]["TotalTaxes"] == -595
        assert r["payments"][0]["amount"] == -4095
        assert all(isinstance(v, int) for v in r["totals"].values())
        assert r["orderStatus"] == "sold"
        assert by_id[other["id"]]["voided"] is True
        assert by_id[sale["id"]]["voided"] is False


def test_generate(fake: FlowhubPos) -> None:
    fake.add_location("Second Store")
    counts = fake.generate(100, 300, seed=5)
    assert counts["customers"] == 100
    assert counts["refunds"] > 0
    assert counts["voids"] > 0
    customers = list(fake.customers.values())
    assert any(c["isLoyal"] and not c["consentsToPromotionalSMS"] for c in customers)
    assert any(c["consentsToPromotionalSMS"] for c in customers)
    assert {o["locationId"] for o in fake.orders.values()} == {"loc_1", "loc_2"}
    with serve(fake, fake.headers) as (_, client):
        total = 0
        for import_id in ("imp_1", "imp_2"):
            page = 1
            while True:
                body = client.get(
                    f"/v1/orders/findByLocationId/{import_id}",
                    params={"created_after": "2026-01-01", "page": page, "page_size": 50},
                ).json()
                total += len(body["orders"])
                if len(body["orders"]) < 50:
                    break
                page += 1
        assert total == len(fake.orders)


def test_faults(fake: FlowhubPos) -> None:
    with serve(fake, fake.headers) as (_, client):
        fake.html_error_next = 1
        html = client.get(ORDERS)
        assert html.status_code == 200
        assert html.text.rstrip().endswith("</html>")
        fake.server_errors_next = 2
        assert client.get(ORDERS).status_code == 503
        assert client.get("/v0/clientsLocations").status_code == 503
        fake.missing_selector_next = 1
        assert "orders" not in client.get(ORDERS).json()
        fake.rate_limited_next = 1
        assert client.get(ORDERS).status_code == 429
        assert "orders" in client.get(ORDERS).json()
    assert fake.requests[0].headers["clientid"] == fake.client_id


def test_dollar_amounts_switch() -> None:
    fake = FlowhubPos(now=NOW, amounts="dollars")
    sale = fake.add_order(None, items=[("p2", 2, 35.0)])
    assert sale["totals"]["FinalTotal"] == 81.9
    assert (sale["itemsInCart"][0]["unitPrice"], sale["payments"][0]["amount"]) == (35.0, 81.9)
    refund = fake.add_refund(sale["id"], "40.95")
    assert (refund["totals"]["FinalTotal"], refund["totals"]["SubTotal"]) == (-40.95, -35.0)
    fake.add_refund(sale["id"], 40.95)
    with pytest.raises(ValueError, match="cannot refund"):
        fake.add_refund(sale["id"], 0.01)


def test_orders_order_by_desc(fake: FlowhubPos) -> None:
    first = fake.add_order(None, created_at=NOW - timedelta(hours=3))
    second = fake.add_order(None, created_at=NOW - timedelta(hours=2))
    with serve(fake, fake.headers) as (_, client):
        asc = client.get(ORDERS, params={"order_by": "asc"}).json()["orders"]
        desc = client.get(ORDERS, params={"order_by": "desc"}).json()["orders"]
        assert [o["id"] for o in asc] == [first["id"], second["id"]]
        assert [o["id"] for o in desc] == [second["id"], first["id"]]


def test_drop_connection(fake: FlowhubPos) -> None:
    with serve(fake, fake.headers) as (_, client):
        fake.drop_connection_next = 2
        for path in (ORDERS, "/v0/clientsLocations"):
            with pytest.raises(httpx2.TransportError):
                client.get(path)
        assert client.get(ORDERS).status_code == 200
    assert fake.statuses == [0, 0, 200]
