"""TreezPos over real HTTP: tokens (raw authorization + client_id; the documented answer;
refusals as 401 or 200 FAIL), expiry, path-embedded lastUpdated/after filters in every
timestamp form, newest-first pages, per-dispensary ids, channel types and refunds by
original_ticket_id, in-progress tickets, faults."""

from __future__ import annotations

from datetime import timedelta

import httpx2
import pytest

from tests.pos_fake import TreezPos
from tests.pos_fake_tests.support import NOW, serve

AFTER = "2026-05-01T00:00:00.000-07:00"


@pytest.fixture
def fake() -> TreezPos:
    return TreezPos(dispensaries=("oakland", "berkeley"), now=NOW, token_ttl=60)


def token(client: httpx2.Client, fake: TreezPos, dispensary: str = "oakland") -> dict[str, str]:
    response = client.post(
        f"{fake.path(dispensary)}/config/api/gettokens",
        data={"client_id": fake.client_id, "apikey": fake.api_key},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {
        "resultCode",
        "access_token",
        "expires_at",
        "expires_in",
        "refresh_token",
    }
    assert body["resultCode"] == "SUCCESS"
    return {"authorization": body["access_token"], "client_id": fake.client_id}


def customers_url(
    fake: TreezPos, after: str = AFTER, page: int = 1, size: int = 50, dispensary: str = "oakland"
) -> str:
    return f"{fake.path(dispensary)}/customer/lastUpdated/after/{after}/page/{page}/pagesize/{size}"


def tickets_url(
    fake: TreezPos, after: str = AFTER, page: int = 1, dispensary: str = "oakland", size: int = 50
) -> str:
    return f"{fake.path(dispensary)}/ticket/lastUpdated/after/{after}/page/{page}/pagesize/{size}"


def test_gettokens_checks_credentials_and_counts(fake: TreezPos) -> None:
    with serve(fake) as (_, client):
        bad = client.post(
            f"{fake.path()}/config/api/gettokens",
            data={"client_id": fake.client_id, "apikey": "nope"},
        )
        assert bad.status_code == 401
        assert bad.json()["resultCode"] == "FAIL"
        token(client, fake)
        assert fake.token_requests == 2
        unknown = client.post(
            "/v2.0/dispensary/nowhere/config/api/gettokens",
            data={"client_id": fake.client_id, "apikey": fake.api_key},
        )
        assert unknown.status_code == 404


def test_data_requests_need_the_raw_token_and_client_id(fake: TreezPos) -> None:
    fake.add_customer()
    with serve(fake) as (_, client):
        headers = token(client, fake)
        assert client.get(customers_url(fake), headers=headers).status_code == 200
        bearer = {**headers, "authorization": f"Bearer {headers['authorization']}"}
        assert client.get(customers_url(fake), headers=bearer).status_code == 401
        no_client = {"authorization": headers["authorization"]}
        assert client.get(customers_url(fake), headers=no_client).status_code == 401
        # A token is bound to its dispensary.
        other = client.get(customers_url(fake, dispensary="berkeley"), headers=headers)
        assert other.status_code == 401


def test_token_expiry_and_refresh(fake: TreezPos) -> None:
    with serve(fake) as (_, client):
        response = client.post(
            f"{fake.path()}/config/api/gettokens",
            data={"client_id": fake.client_id, "apikey": fake.api_key},
        ).json()
        assert response["expires_in"] == "60"  # a STRING of seconds
        assert response["expires_at"] == "2026-05-15T11:01:00.000-0700"  # no colon
        headers = {"authorization": response["access_token"], "client_id": fake.client_id}
        fake.advance(59)
        assert client.get(customers_url(fake), headers=headers).status_code == 200
        fake.advance(2)
        expired = client.get(customers_url(fake), headers=headers)
        assert expired.status_code == 401
        assert expired.json() == {"resultCode": "FAIL", "resultReason": "Access token expired"}
        refreshed = client.post(
            f"{fake.path()}/config/api/refreshtoken",
            data={"client_id": fake.client_id, "refresh_token": response["refresh_token"]},
        )
        assert refreshed.status_code == 200
        headers["authorization"] = refreshed.json()["access_token"]
        assert client.get(customers_url(fake), headers=headers).status_code == 200
        fake.expire_tokens()
        assert client.get(customers_url(fake), headers=headers).status_code == 401
        assert fake.token_requests == 2


def test_customers_newest_first_strictly_after_and_empty_past_the_end(fake: TreezPos) -> None:
    made = [
        fake.add_customer(last_update=NOW - timedelta(hours=hours)) for hours in (50, 30, 20, 10, 5)
    ]
    assert made[0]["last_update"] == "2026-05-13T09:00:00.000-07:00"
    assert isinstance(made[0]["customer_id"], str)
    assert made[0]["opt_out"] == "false"
    with serve(fake) as (_, client):
        headers = token(client, fake)
        after = "2026-05-14T16:00:00.000-07:00"  # == made[2]'s last_update: excluded
        page1 = client.get(customers_url(fake, after, 1, 2), headers=headers).json()
        page2 = client.get(customers_url(fake, after, 2, 2), headers=headers).json()
        assert set(page1) == {"data"}
        assert [c["customer_id"] for c in page1["data"]] == [
            made[4]["customer_id"],
            made[3]["customer_id"],
        ]
        assert page2 == {"data": []}
        # Offsets in any form: +00:00 raw in the path, %2B-encoded, Z, no offset (store-local).
        for stamp in (
            "2026-05-14T23:00:00.000+00:00",
            "2026-05-14T23:00:00.000%2B00:00",
            "2026-05-14T23:00:00Z",
            "2026-05-14T16:00:00.000",
        ):
            got = client.get(customers_url(fake, stamp), headers=headers).json()["data"]
            assert len(got) == 2, stamp
        assert client.get(customers_url(fake, "yesterday"), headers=headers).status_code == 400
        assert client.get(customers_url(fake, size=51), headers=headers).status_code == 400
        assert client.get(customers_url(fake, page=0), headers=headers).status_code == 400


def test_update_moves_a_customer_to_the_front(fake: TreezPos) -> None:
    first = fake.add_customer(last_update=NOW - timedelta(days=2))
    fake.add_customer(last_update=NOW - timedelta(days=1))
    fake.update_customer(first["customer_id"], opt_out="true")
    with serve(fake) as (_, client):
        got = client.get(customers_url(fake), headers=token(client, fake)).json()["data"]
        assert got[0]["customer_id"] == first["customer_id"]
        assert got[0]["opt_out"] == "true"
        assert got[0]["last_update"] == "2026-05-15T11:00:00.000-07:00"


def test_tickets_refunds_and_number_customer_ids(fake: TreezPos) -> None:
    customer = fake.add_customer()
    sale = fake.add_ticket(
        customer["customer_id"], items=[("P1", 1, 40.0)], date_created=NOW - timedelta(days=1)
    )
    assert sale["customer_id"] == int(customer["customer_id"])
    assert (sale["type"], sale["ticket_id"], sale["total"]) == ("POS", "T-0001", 48.2)
    assert sale["original_ticket_id"] is None
    refund = fake.add_refund("T-0001", 48.2)
    with pytest.raises(ValueError, match="cannot refund"):
        fake.add_refund("T-0001", 1)
    with serve(fake) as (_, client):
        body = client.get(tickets_url(fake), headers=token(client, fake)).json()
        assert set(body) == {"ticketList"}
        tickets = body["ticketList"]
        assert [t["ticket_id"] for t in tickets] == [refund["ticket_id"], "T-0001"]
        got = tickets[0]
        assert got["type"] == "POS"  # the channel, like the sale's: not a refund marker
        assert got["original_ticket_id"] == "T-0001"
        assert got["payment_status"] == "REFUNDED"
        assert got["refund_reason"] == "Customer return"
        assert (got["sub_total"], got["tax_total"], got["total"]) == (-40.0, -8.2, -48.2)
        assert got["payments"][0]["amount_paid"] == -48.2
        assert got["customer_id"] == int(customer["customer_id"])
        assert tickets[1]["original_ticket_id"] is None
        assert client.get(tickets_url(fake, page=2), headers=token(client, fake)).json() == {
            "ticketList": []
        }


def test_ids_are_only_unique_per_dispensary(fake: TreezPos) -> None:
    a = fake.add_customer(dispensary="oakland")
    b = fake.add_customer(dispensary="berkeley")
    assert a["customer_id"] == b["customer_id"] == "100001"
    ta = fake.add_ticket(a["customer_id"], dispensary="oakland")
    tb = fake.add_ticket(b["customer_id"], dispensary="berkeley")
    assert ta["ticket_id"] == tb["ticket_id"] == "T-0001"
    with serve(fake) as (_, client):
        for dispensary, record in (("oakland", a), ("berkeley", b)):
            headers = token(client, fake, dispensary)
            url = customers_url(fake, dispensary=dispensary)
            got = client.get(url, headers=headers).json()["data"]
            assert [c["email"] for c in got] == [record["email"]]


def test_cancel_bumps_last_updated(fake: TreezPos) -> None:
    sale = fake.add_ticket(None, date_created=NOW - timedelta(days=3))
    assert sale["customer_id"] is None
    fake.cancel(sale["ticket_id"])
    with serve(fake) as (_, client):
        got = client.get(
            tickets_url(fake, "2026-05-15T00:00:00.000-07:00"), headers=token(client, fake)
        ).json()["ticketList"]
        assert [t["order_status"] for t in got] == ["CANCELED"]


def test_generate(fake: TreezPos) -> None:
    counts = fake.generate(150, 300, seed=3, dispensary="berkeley")
    assert counts["customers"] == 150
    assert counts["refunds"] > 0
    d = fake.dispensaries["berkeley"]
    assert not fake.dispensaries["oakland"].customers
    customers = list(d.customers.values())
    assert {c["opt_out"] for c in customers} == {"true", "false"}
    assert any(c["merged_into_customer_id"] for c in customers)
    tickets = list(d.tickets.values())
    refunds = [t for t in tickets if t["original_ticket_id"] is not None]
    assert refunds
    assert all(t["total"] < 0 and t["original_ticket_id"] in d.tickets for t in refunds)
    assert all(t["type"] == d.tickets[t["original_ticket_id"]]["type"] for t in refunds)
    assert {t["type"] for t in tickets} == {"POS", "DELIVERY", "PICKUP", "EXPRESS"}
    assert counts["in_progress"] > 0
    assert {t["order_status"] for t in tickets} >= {"COMPLETED", "CANCELED"}
    assert any(t["order_status"] not in ("COMPLETED", "CANCELED") for t in tickets)
    assert any(t["customer_id"] is None for t in tickets)
    with serve(fake) as (_, client):
        headers = token(client, fake, "berkeley")
        seen = []
        page = 1
        while True:
            url = tickets_url(fake, "2020-01-01T00:00:00.000-08:00", page, "berkeley")
            batch = client.get(url, headers=headers).json()["ticketList"]
            if not batch:
                break
            seen.extend(batch)
            page += 1
        assert len(seen) == len(tickets)
        stamps = [t["last_updated_at"] for t in seen]
        assert stamps == sorted(stamps, reverse=True)


def test_faults(fake: TreezPos) -> None:
    with serve(fake) as (_, client):
        headers = token(client, fake)
        fake.server_errors_next = 1
        fake.server_error_status = 500
        assert client.get(customers_url(fake), headers=headers).status_code == 500
        fake.html_error_next = 1
        fake.html_error_status = 502
        html = client.get(customers_url(fake), headers=headers)
        assert (html.status_code, html.headers["content-type"][:9]) == (502, "text/html")
        fake.missing_selector_next = 1
        assert "data" not in client.get(customers_url(fake), headers=headers).json()
        # Faults hit the token endpoint too.
        fake.server_errors_next = 1
        response = client.post(
            f"{fake.path()}/config/api/gettokens",
            data={"client_id": fake.client_id, "apikey": fake.api_key},
        )
        assert response.status_code == 500
    assert fake.requests[1].headers["client_id"] == fake.client_id


def test_an_update_mid_walk_shifts_pages_newest_first(fake: TreezPos) -> None:
    made = [fake.add_customer(last_update=NOW - timedelta(hours=h)) for h in (6, 5, 4, 3)]
    with serve(fake) as (_, client):
        headers = token(client, fake)
        page1 = client.get(customers_url(fake, size=2), headers=headers).json()["data"]
        assert [c["customer_id"] for c in page1] == [made[3]["customer_id"], made[2]["customer_id"]]
        fake.update_customer(made[0]["customer_id"], email="moved@example.com")
        page2 = client.get(customers_url(fake, page=2, size=2), headers=headers).json()["data"]
        # The updated record jumped to page 1: page 2 repeats one and misses the moved one.
        assert [c["customer_id"] for c in page2] == [made[2]["customer_id"], made[1]["customer_id"]]


def test_refused_token_request_as_200_fail_when_switched() -> None:
    fake = TreezPos(now=NOW, refuse_with_200=True)
    with serve(fake) as (_, client):
        bad = client.post(
            f"{fake.path()}/config/api/gettokens",
            data={"client_id": fake.client_id, "apikey": "nope"},
        )
        assert bad.status_code == 200
        assert bad.json() == {"resultCode": "FAIL", "resultReason": "Invalid client_id or apikey"}
        refresh = client.post(
            f"{fake.path()}/config/api/refreshtoken",
            data={"client_id": fake.client_id, "refresh_token": "nope"},
        )
        assert refresh.status_code == 200
        assert "access_token" not in refresh.json()


def test_invalid_token_on_data_requests_as_200_fail_when_switched() -> None:
    fake = TreezPos(now=NOW, invalid_token_with_200=True)
    fake.add_customer()
    with serve(fake) as (_, client):
        headers = token(client, fake, "partners-oakland")
        url = customers_url(fake, dispensary="partners-oakland")
        assert client.get(url, headers=headers).json()["data"]
        fake.expire_tokens()
        expired = client.get(url, headers=headers)
        assert expired.status_code == 200
        assert expired.json() == {"resultCode": "FAIL", "resultReason": "Access token expired"}


def test_page_sizes_25_and_50_are_both_valid(fake: TreezPos) -> None:
    for _ in range(30):
        fake.add_ticket(None, date_created=NOW - timedelta(hours=1))
    with serve(fake) as (_, client):
        headers = token(client, fake)
        small = client.get(tickets_url(fake, size=25), headers=headers).json()["ticketList"]
        large = client.get(tickets_url(fake, size=50), headers=headers).json()["ticketList"]
        assert (len(small), len(large)) == (25, 30)
        assert client.get(tickets_url(fake, size=51), headers=headers).status_code == 400


@pytest.mark.parametrize(
    "stamp",
    [
        "2026-05-15T09:00:00.000Z",
        "2026-05-15T09:00:00Z",
        "2026-05-15T02:00:00.000-07:00",
        "2026-05-15T02%3A00%3A00.000-07%3A00",  # percent-encoded colons (older tap-treez)
        "2026-05-15T09:00:00.000+00:00",  # raw "+": a path keeps it
        "2026-05-15T09:00:00.000%2B00:00",
        "2026-05-15T09:00:00.000-00:00",
        "2026-05-15T02:00:00.000-0700",
        "2026-05-15T02:00:00.000",  # no offset: store-local (assumption)
    ],
)
def test_timestamp_forms_in_the_path(fake: TreezPos, stamp: str) -> None:
    fake.add_ticket(None, date_created=NOW - timedelta(hours=9, minutes=1))  # updated 09:00Z
    later = fake.add_ticket(None, date_created=NOW - timedelta(hours=8))
    with serve(fake) as (_, client):
        response = client.get(tickets_url(fake, stamp), headers=token(client, fake))
        assert response.status_code == 200, response.text
        assert [t["ticket_id"] for t in response.json()["ticketList"]] == [later["ticket_id"]]


def test_in_progress_ticket_then_completed(fake: TreezPos) -> None:
    pending = fake.add_pending_ticket(
        None, status="OUT_FOR_DELIVERY", date_created=NOW - timedelta(hours=2)
    )
    assert pending["order_status"] == "OUT_FOR_DELIVERY"
    assert (pending["date_closed"], pending["type"]) == (None, "DELIVERY")
    with pytest.raises(ValueError, match="in-progress"):
        fake.add_pending_ticket(None, status="COMPLETED")
    with serve(fake) as (_, client):
        headers = token(client, fake)
        first = client.get(tickets_url(fake), headers=headers).json()["ticketList"]
        assert [t["order_status"] for t in first] == ["OUT_FOR_DELIVERY"]
        fake.advance(minutes=30)
        done = fake.complete(pending["ticket_id"])
        assert done["last_updated_at"] == "2026-05-15T11:30:00.000-07:00"
        assert done["date_closed"] == done["last_updated_at"]
        assert done["payment_status"] == "PAID"
        since = "2026-05-15T11:00:00.000-07:00"
        headers = token(client, fake)  # the fixture's token lives 60 s
        again = client.get(tickets_url(fake, since), headers=headers).json()["ticketList"]
        assert [(t["ticket_id"], t["order_status"]) for t in again] == [
            (pending["ticket_id"], "COMPLETED")
        ]
    for status in ("VERIFICATION_PENDING", "AWAITING_PROCESSING", "IN_PROCESS", "PACKED_READY"):
        assert fake.set_status(pending["ticket_id"], status)["order_status"] == status
    with pytest.raises(ValueError, match="unknown"):
        fake.set_status(pending["ticket_id"], "REFUND")


def test_refund_keeps_the_sale_channel_and_sign_switch() -> None:
    fake = TreezPos(now=NOW, refund_totals="positive")
    sale = fake.add_ticket(None, items=[("P1", 2, 40.0)], type="PICKUP")
    refund = fake.add_refund(sale["ticket_id"], 48.2)
    assert (refund["type"], refund["original_ticket_id"]) == ("PICKUP", sale["ticket_id"])
    assert (refund["sub_total"], refund["tax_total"], refund["total"]) == (40.0, 8.2, 48.2)
    fake.add_refund(sale["ticket_id"], 48.2)
    with pytest.raises(ValueError, match="cannot refund"):
        fake.add_refund(sale["ticket_id"], 0.01)
    with pytest.raises(ValueError, match="itself a refund"):
        fake.add_refund(refund["ticket_id"], 1)


def test_faults_on_the_token_endpoint(fake: TreezPos) -> None:
    url = f"{fake.path()}/config/api/gettokens"
    form = {"client_id": fake.client_id, "apikey": fake.api_key}
    with serve(fake) as (_, client):
        fake.drop_connection_next = 1
        with pytest.raises(httpx2.TransportError):
            client.post(url, data=form)
        fake.rate_limited_next = 1
        limited = client.post(url, data=form)
        assert limited.status_code == 429
        assert limited.headers["retry-after"] == "1"
        fake.server_errors_next = 1
        assert client.post(url, data=form).status_code == 503
        assert client.post(url, data=form).json()["resultCode"] == "SUCCESS"
    assert fake.statuses == [0, 429, 503, 200]
    assert fake.token_requests == 1  # faults answer before the handler
