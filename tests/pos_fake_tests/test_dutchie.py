"""DutchiePos over real HTTP: Basic auth per location key, /whoami, company-wide paged
customers, per-location transaction windows (1440 h cap, .NET/date-only formats), bare or
enveloped answers, returns and voids, quirks, faults."""

from __future__ import annotations

from datetime import timedelta

import httpx2
import pytest

from tests.pos_fake import SENTINEL, DutchiePos
from tests.pos_fake_tests.support import NOW, serve

CUSTOMERS = "/customer/customers-paginated"
TRANSACTIONS = "/reporting/transactions"


@pytest.fixture
def fake() -> DutchiePos:
    return DutchiePos(now=NOW)


def test_basic_auth_with_location_key_and_empty_password(fake: DutchiePos) -> None:
    with serve(fake) as (_, client):
        assert client.get("/whoami").status_code == 401
        assert client.get("/whoami", auth=("wrong", "")).status_code == 401
        assert client.get("/whoami", auth=(fake.location_key, "x")).status_code == 401
        denied = client.get(CUSTOMERS, auth=("wrong", ""))
        assert denied.status_code == 401
        assert denied.json() == {"message": "Authorization has been denied for this request."}
        ok = client.get("/whoami", auth=fake.basic_auth)
        assert ok.status_code == 200
        assert ok.json() == {
            "LocationName": "Example Dispensary - Downtown",
            "LocationId": 4211,
            "CompanyName": "Example Cannabis Co",
            "CompanyId": 917,
        }


def test_integrator_key_as_password_when_configured() -> None:
    fake = DutchiePos(integrator_key="integrator")
    with serve(fake) as (_, client):
        assert client.get("/whoami", auth=(fake.location_key, "integrator")).status_code == 200
        assert client.get("/whoami", auth=(fake.location_key, "")).status_code == 200
        assert client.get("/whoami", auth=(fake.location_key, "other")).status_code == 401


def test_customers_pages_are_bare_arrays_then_empty(fake: DutchiePos) -> None:
    for _ in range(5):
        fake.add_customer()
    with serve(fake) as (_, client):
        pages = []
        for number in (1, 2, 3, 4):
            response = client.get(
                CUSTOMERS, params={"PageNumber": number, "PageSize": 2}, auth=fake.basic_auth
            )
            assert response.status_code == 200
            pages.append(response.json())
        assert [len(p) for p in pages] == [2, 2, 1, 0]
        ids = [c["customerId"] for page in pages for c in page]
        assert ids == sorted(ids) == [1000001, 1000002, 1000003, 1000004, 1000005]
        # Parameter names bind case-insensitively.
        lower = client.get(CUSTOMERS, params={"pagenumber": 3, "pagesize": 2}, auth=fake.basic_auth)
        assert [c["customerId"] for c in lower.json()] == [1000005]


def test_page_size_limits(fake: DutchiePos) -> None:
    with serve(fake) as (_, client):
        too_big = client.get(CUSTOMERS, params={"PageSize": 101}, auth=fake.basic_auth)
        assert too_big.status_code == 400
        assert "100" in too_big.json()["message"]
        assert (
            client.get(CUSTOMERS, params={"PageNumber": 0}, auth=fake.basic_auth).status_code == 400
        )
        assert (
            client.get(CUSTOMERS, params={"PageSize": 100}, auth=fake.basic_auth).status_code == 200
        )


def test_from_last_modified_uses_the_real_time_whatever_is_displayed(fake: DutchiePos) -> None:
    old = fake.add_customer(modified=NOW - timedelta(days=10))
    iso = fake.add_customer(modified=NOW - timedelta(hours=1))
    us = fake.add_customer(modified=NOW - timedelta(hours=1), modified_format="us")
    sentinel = fake.add_customer(modified=NOW - timedelta(minutes=5), modified_format="sentinel")
    assert iso["lastModifiedDateUTC"] == "2026-05-15T17:00:00"
    assert us["lastModifiedDateUTC"] == "05/15/2026 17:00:00"
    assert sentinel["lastModifiedDateUTC"] == SENTINEL
    with serve(fake) as (_, client):
        got = client.get(
            CUSTOMERS,
            params={"fromLastModifiedDateUTC": "2026-05-15T17:00:00Z"},
            auth=fake.basic_auth,
        ).json()
        assert [c["customerId"] for c in got] == [
            iso["customerId"],
            us["customerId"],
            sentinel["customerId"],
        ]
        everything = client.get(CUSTOMERS, auth=fake.basic_auth).json()
        assert old["customerId"] in [c["customerId"] for c in everything]
        bad = client.get(CUSTOMERS, params={"fromLastModifiedDateUTC": "x"}, auth=fake.basic_auth)
        assert bad.status_code == 400


def test_update_customer_moves_it_into_the_window(fake: DutchiePos) -> None:
    customer = fake.add_customer(modified=NOW - timedelta(days=3))
    fake.update_customer(customer["customerId"], cellPhone="+13035550142")
    with serve(fake) as (_, client):
        got = client.get(
            CUSTOMERS,
            params={"fromLastModifiedDateUTC": (NOW - timedelta(minutes=1)).isoformat()},
            auth=fake.basic_auth,
        ).json()
        assert [c["cellPhone"] for c in got] == ["+13035550142"]


def test_customer_fields_are_the_sample_fields(fake: DutchiePos) -> None:
    record = fake.add_customer()
    assert record["isLoyaltyMember"] is False
    assert record["springBigMemberId"] == "0"
    assert record["mmjidExpirationDate"] == SENTINEL
    assert record["emailAddress"].endswith("@example.com")


def test_transactions_window_is_a_bare_array_without_paging(fake: DutchiePos) -> None:
    customer = fake.add_customer()
    early = fake.add_transaction(
        customer["customerId"], transaction_date=NOW - timedelta(days=2), items=[(777, 1, 40.0)]
    )
    late = fake.add_transaction(customer["customerId"], transaction_date=NOW - timedelta(hours=2))
    assert early["subtotal"] == 40.0
    assert early["tax"] == 8.2
    assert early["total"] == 48.2
    assert early["transactionDate"] == "2026-05-13T18:00:00Z"
    assert early["transactionDateLocalTime"] == "2026-05-13T12:00:00"  # America/Denver
    assert early["lastModifiedDateUTC"] == "2026-05-13T18:00:05Z"
    with serve(fake) as (_, client):
        params = {
            "FromLastModifiedDateUTC": (NOW - timedelta(days=1)).isoformat(),
            "ToLastModifiedDateUTC": NOW.isoformat(),
            "IncludeDetail": "true",
        }
        got = client.get(TRANSACTIONS, params=params, auth=fake.basic_auth).json()
        assert isinstance(got, list)
        assert [t["transactionId"] for t in got] == [late["transactionId"]]
        assert got[0]["items"]
        all_of_them = client.get(
            TRANSACTIONS,
            params={"FromLastModifiedDateUTC": "2026-04-01T00:00:00Z"},
            auth=fake.basic_auth,
        ).json()
        assert len(all_of_them) == 2
        assert all(t["items"] == [] for t in all_of_them)  # no IncludeDetail
        by_date = client.get(
            TRANSACTIONS,
            params={"FromDateUTC": "2026-05-13T00:00:00Z", "ToDateUTC": "2026-05-14T00:00:00Z"},
            auth=fake.basic_auth,
        ).json()
        assert [t["transactionId"] for t in by_date] == [early["transactionId"]]
        by_id = client.get(
            TRANSACTIONS, params={"TransactionId": late["transactionId"]}, auth=fake.basic_auth
        ).json()
        assert [t["transactionId"] for t in by_id] == [late["transactionId"]]


def test_transaction_filter_groups_are_exclusive_and_required(fake: DutchiePos) -> None:
    with serve(fake) as (_, client):
        assert client.get(TRANSACTIONS, auth=fake.basic_auth).status_code == 400
        mixed = {"TransactionId": "1", "FromDateUTC": "2026-05-01T00:00:00Z"}
        assert client.get(TRANSACTIONS, params=mixed, auth=fake.basic_auth).status_code == 400
        only_to = {"ToLastModifiedDateUTC": "2026-05-01T00:00:00Z"}
        assert client.get(TRANSACTIONS, params=only_to, auth=fake.basic_auth).status_code == 400
        backwards = {
            "FromLastModifiedDateUTC": "2026-05-02T00:00:00Z",
            "ToLastModifiedDateUTC": "2026-05-01T00:00:00Z",
        }
        assert client.get(TRANSACTIONS, params=backwards, auth=fake.basic_auth).status_code == 400


def test_max_window_is_1440_hours_by_default_on_both_date_groups(fake: DutchiePos) -> None:
    assert fake.max_window_hours == 1440
    with serve(fake) as (_, client):
        for lower, upper in (
            ("FromLastModifiedDateUTC", "ToLastModifiedDateUTC"),
            ("FromDateUTC", "ToDateUTC"),
        ):
            wide = {lower: "2026-01-01T00:00:00Z", upper: NOW.isoformat()}
            response = client.get(TRANSACTIONS, params=wide, auth=fake.basic_auth)
            assert response.status_code == 400, lower
            assert "1440" in response.json()["message"]
            # To defaults to now: From alone is measured against now.
            alone = client.get(
                TRANSACTIONS, params={lower: "2026-01-01T00:00:00Z"}, auth=fake.basic_auth
            )
            assert alone.status_code == 400
            exactly = {lower: "2026-03-01", upper: "2026-04-30"}  # 60 days = 1440 h
            assert client.get(TRANSACTIONS, params=exactly, auth=fake.basic_auth).status_code == 200
            over = {lower: "2026-03-01", upper: "2026-04-30T00:00:01Z"}
            assert client.get(TRANSACTIONS, params=over, auth=fake.basic_auth).status_code == 400


def test_max_window_can_be_switched_off() -> None:
    fake = DutchiePos(now=NOW, max_window_hours=None)
    with serve(fake) as (_, client):
        wide = {"FromLastModifiedDateUTC": "2000-01-01T00:00:00Z"}
        assert client.get(TRANSACTIONS, params=wide, auth=fake.basic_auth).status_code == 200


@pytest.mark.parametrize(
    ("lower", "upper"),
    [
        ("2026-05-13T00:00:00.0000000Z", "2026-05-14T00:00:00.0000000Z"),  # .NET "O" (DU)
        ("2026-05-13", "2026-05-14"),  # date-only (other clients)
        ("2026-05-13T00:00:00Z", "2026-05-14T00:00:00.000Z"),
        ("2026-05-13T00:00:00", "2026-05-13T18:00:00-06:00"),  # naive = UTC; offsets
    ],
)
def test_date_parameters_accept_the_formats_clients_send(
    fake: DutchiePos, lower: str, upper: str
) -> None:
    sale = fake.add_transaction(None, transaction_date=NOW - timedelta(days=2))  # 05-13 18:00Z
    fake.add_transaction(None, transaction_date=NOW - timedelta(days=3))
    with serve(fake) as (_, client):
        for group in ("DateUTC", "LastModifiedDateUTC"):
            params = {f"From{group}": lower, f"To{group}": upper}
            got = client.get(TRANSACTIONS, params=params, auth=fake.basic_auth)
            assert got.status_code == 200, (group, got.text)
            assert [t["transactionId"] for t in got.json()] == [sale["transactionId"]], group


def test_return_is_a_separate_negative_transaction_and_bumps_the_original(
    fake: DutchiePos,
) -> None:
    customer = fake.add_customer()
    sale = fake.add_transaction(
        customer["customerId"],
        transaction_date=NOW - timedelta(days=5),
        items=[(777, 1, 40.0), (778, 1, 35.0)],
    )
    fake.advance(hours=1)
    returned = fake.add_return(sale["transactionId"], 48.2, reason="Defective cartridge")
    assert returned["isReturn"] is True
    assert returned["returnOnTransactionId"] == sale["transactionId"]
    assert returned["total"] == -48.2
    assert returned["subtotal"] == -40.0
    assert returned["tax"] == -8.2
    assert returned["items"][0]["returnReason"] == "Defective cartridge"
    assert returned["items"][0]["totalPrice"] == -40.0
    with pytest.raises(ValueError, match="cannot return"):
        fake.add_return(sale["transactionId"], 1000)
    with serve(fake) as (_, client):
        got = client.get(
            TRANSACTIONS,
            params={"FromLastModifiedDateUTC": NOW.isoformat(), "IncludeDetail": "true"},
            auth=fake.basic_auth,
        ).json()
        by_id = {t["transactionId"]: t for t in got}
        assert set(by_id) == {sale["transactionId"], returned["transactionId"]}
        original = by_id[sale["transactionId"]]
        assert original["lastModifiedDateUTC"] == "2026-05-15T19:00:00Z"
        assert original["items"][0]["isReturned"] is True
        assert original["items"][0]["returnedByTransactionId"] == returned["transactionId"]
        assert original["items"][1]["isReturned"] is False
        assert original["isReturn"] is False


def test_void_flips_the_original(fake: DutchiePos) -> None:
    sale = fake.add_transaction(None, transaction_date=NOW - timedelta(days=1))
    fake.advance(minutes=30)
    fake.void(sale["transactionId"])
    with serve(fake) as (_, client):
        got = client.get(
            TRANSACTIONS,
            params={"FromLastModifiedDateUTC": "2026-05-15T18:10:00Z"},
            auth=fake.basic_auth,
        ).json()
        assert len(got) == 1
        assert got[0]["isVoid"] is True
        assert got[0]["voidDate"] == "2026-05-15T18:30:00Z"
        assert got[0]["lastModifiedDateUTC"] == "2026-05-15T18:30:00Z"
        assert len(fake.transactions) == 1


def test_generate_is_messy_and_deterministic() -> None:
    a, b = DutchiePos(now=NOW), DutchiePos(now=NOW)
    counts = a.generate(200, 400, seed=7)
    assert counts == b.generate(200, 400, seed=7)
    assert a.customers == b.customers
    assert counts["customers"] == 200
    assert counts["anonymous"] == 2
    assert counts["returns"] > 0
    assert counts["voids"] > 0
    customers = list(a.customers.values())
    modified = [c["lastModifiedDateUTC"] for c in customers]
    assert any(m == SENTINEL for m in modified)
    assert any("/" in m for m in modified)
    assert any(c["dateOfBirth"] == SENTINEL for c in customers)
    assert any("N/A" in (c["address2"], c["phone"], c["emailAddress"]) for c in customers)
    assert {type(c["springBigMemberId"]) for c in customers} == {str, int}
    assert any(c["isLoyaltyMember"] for c in customers)
    assert sum(c["isAnonymous"] for c in customers) == 2
    returns = [t for t in a.transactions.values() if t["isReturn"]]
    assert all(t["total"] < 0 and t["returnOnTransactionId"] for t in returns)
    assert any(t["isVoid"] for t in a.transactions.values())


def test_faults(fake: DutchiePos) -> None:
    fake.add_customer()
    with serve(fake) as (_, client):
        fake.html_error_next = 1
        html = client.get(CUSTOMERS, auth=fake.basic_auth)
        assert html.status_code == 200
        assert html.headers["content-type"].startswith("text/html")
        fake.server_errors_next = 1
        assert client.get(CUSTOMERS, auth=fake.basic_auth).status_code == 503
        fake.missing_selector_next = 1
        assert client.get(CUSTOMERS, auth=fake.basic_auth).json() == {
            "error": "temporarily unavailable"
        }
        assert len(client.get(CUSTOMERS, auth=fake.basic_auth).json()) == 1
    assert fake.statuses == [200, 503, 200, 200]
    assert [r.path for r in fake.requests] == [CUSTOMERS] * 4


def test_sentinel_customers_are_served_when_no_filter_is_given(fake: DutchiePos) -> None:
    old = fake.add_customer(modified=NOW - timedelta(days=4000), modified_format="sentinel")
    plain = fake.add_customer(modified_format="sentinel")
    with serve(fake) as (_, client):
        everything = client.get(CUSTOMERS, params={"PageSize": 100}, auth=fake.basic_auth).json()
        assert [c["customerId"] for c in everything] == [old["customerId"], plain["customerId"]]
        assert {c["lastModifiedDateUTC"] for c in everything} == {SENTINEL}


def test_junk_cell_phones_beside_a_good_phone(fake: DutchiePos) -> None:
    junk = ("0", "none", "(555) 123-4567", "", None)
    made = [fake.add_customer(phone="(415) 555-0123", cellPhone=value) for value in junk]
    with serve(fake) as (_, client):
        got = client.get(CUSTOMERS, auth=fake.basic_auth).json()
        assert [(c["phone"], c["cellPhone"]) for c in got] == [
            ("(415) 555-0123", value) for value in junk
        ]
        assert [c["customerId"] for c in got] == [c["customerId"] for c in made]


def test_several_locations_share_customers_but_not_transactions() -> None:
    fake = DutchiePos(
        now=NOW,
        locations=[
            ("key-downtown", 4211, "Downtown"),
            ("key-uptown", 4212, "Uptown", "America/Los_Angeles"),
        ],
    )
    assert (fake.location_key, fake.location_id, fake.location_name) == (
        "key-downtown",
        4211,
        "Downtown",
    )
    customer = fake.add_customer(location_key="key-uptown")
    assert customer["createdAtLocation"] == "Uptown"
    down = fake.add_transaction(customer["customerId"], transaction_date=NOW - timedelta(hours=3))
    up = fake.add_transaction(
        customer["customerId"], transaction_date=NOW - timedelta(hours=2), location_key="key-uptown"
    )
    assert up["transactionDateLocalTime"] == "2026-05-15T09:00:00"  # Los Angeles
    assert down["transactionDateLocalTime"] == "2026-05-15T09:00:00"  # Denver, an hour earlier
    fake.advance(minutes=5)
    returned = fake.add_return(up["transactionId"], 10)
    assert fake.transaction_location[returned["transactionId"]] == "key-uptown"
    window = {"FromLastModifiedDateUTC": "2026-05-15T00:00:00Z"}
    with serve(fake) as (_, client):
        assert client.get("/whoami", auth=("nope", "")).status_code == 401
        who = client.get("/whoami", auth=fake.basic_auth_for("key-uptown")).json()
        assert (who["LocationId"], who["LocationName"]) == (4212, "Uptown")
        assert client.get("/whoami", auth=fake.basic_auth).json()["LocationId"] == 4211
        for key in fake.locations:
            got = client.get(CUSTOMERS, auth=(key, "")).json()
            assert [c["customerId"] for c in got] == [customer["customerId"]], key
        downtown = client.get(TRANSACTIONS, params=window, auth=("key-downtown", "")).json()
        uptown = client.get(TRANSACTIONS, params=window, auth=("key-uptown", "")).json()
        assert [t["transactionId"] for t in downtown] == [down["transactionId"]]
        assert [t["transactionId"] for t in uptown] == [
            up["transactionId"],
            returned["transactionId"],
        ]
        foreign = client.get(
            TRANSACTIONS, params={"TransactionId": up["transactionId"]}, auth=fake.basic_auth
        )
        assert foreign.json() == []


@pytest.mark.parametrize("key", ["data", "Customers"])
def test_envelope_wraps_customers_and_transactions(key: str) -> None:
    fake = DutchiePos(now=NOW, envelope=key)
    fake.add_customer()
    sale = fake.add_transaction(None, transaction_date=NOW - timedelta(hours=1))
    with serve(fake) as (_, client):
        customers = client.get(CUSTOMERS, auth=fake.basic_auth).json()
        assert set(customers) == {key}
        assert len(customers[key]) == 1
        assert client.get(CUSTOMERS, params={"PageNumber": 2}, auth=fake.basic_auth).json() == {
            key: []
        }
        window = {"FromLastModifiedDateUTC": "2026-05-15T00:00:00Z"}
        transactions = client.get(TRANSACTIONS, params=window, auth=fake.basic_auth).json()
        assert [t["transactionId"] for t in transactions[key]] == [sale["transactionId"]]


def test_oversize_page_rejected_or_clamped() -> None:
    fake = DutchiePos(now=NOW, oversize_page="clamp", max_page_size=2)
    for _ in range(3):
        fake.add_customer()
    with serve(fake) as (_, client):
        got = client.get(CUSTOMERS, params={"PageSize": 1000}, auth=fake.basic_auth)
        assert got.status_code == 200
        assert len(got.json()) == 2  # silently capped: a short-page stop would stop here
        page2 = client.get(
            CUSTOMERS, params={"PageSize": 1000, "PageNumber": 2}, auth=fake.basic_auth
        ).json()
        assert len(page2) == 1


@pytest.mark.parametrize(
    ("style", "expected"),
    [
        ("z", "2026-05-15T17:00:00Z"),
        ("offset", "2026-05-15T17:00:00+00:00"),
        ("naive", "2026-05-15T17:00:00"),
    ],
)
def test_utc_style_of_transaction_times(style: str, expected: str) -> None:
    fake = DutchiePos(now=NOW, utc_style=style)  # type: ignore[arg-type]
    sale = fake.add_transaction(None, transaction_date=NOW - timedelta(hours=1))
    assert sale["transactionDate"] == expected
    assert sale["transactionDateLocalTime"] == "2026-05-15T11:00:00"
    fake.void(sale["transactionId"])
    with serve(fake) as (_, client):
        got = client.get(
            TRANSACTIONS, params={"FromDateUTC": "2026-05-15"}, auth=fake.basic_auth
        ).json()
        assert [t["transactionDate"] for t in got] == [expected]
        assert got[0]["voidDate"] == expected.replace("17:00", "18:00")


def test_positive_refund_totals_switch() -> None:
    fake = DutchiePos(now=NOW, refund_totals="positive")
    sale = fake.add_transaction(None, items=[(777, 2, 40.0)], transaction_date=NOW)
    first = fake.add_return(sale["transactionId"], 48.2)
    assert (first["total"], first["subtotal"], first["tax"]) == (48.2, 40.0, 8.2)
    assert first["isReturn"] is True
    fake.add_return(sale["transactionId"], 48.2)
    with pytest.raises(ValueError, match="cannot return"):
        fake.add_return(sale["transactionId"], 0.01)


def test_drop_connection_and_rate_limit(fake: DutchiePos) -> None:
    fake.add_customer()
    with serve(fake) as (_, client):
        fake.drop_connection_next = 1
        with pytest.raises(httpx2.TransportError):
            client.get(CUSTOMERS, auth=fake.basic_auth)
        fake.rate_limited_next = 1
        fake.retry_after = 7
        limited = client.get(CUSTOMERS, auth=fake.basic_auth)
        assert (limited.status_code, limited.headers["retry-after"]) == (429, "7")
        assert len(client.get(CUSTOMERS, auth=fake.basic_auth).json()) == 1
    assert fake.statuses == [0, 429, 200]
    assert len(fake.requests) == 3
