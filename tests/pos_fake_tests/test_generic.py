"""GenericPos over real HTTP: every auth style, every pagination style, token expiry, faults."""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx2
import pytest

from tests.pos_fake import AUTH_STYLES, PAGINATION_STYLES, GenericPos, RunningPos, running_pos


def _customers(fake: GenericPos, n: int) -> None:
    for i in range(n):
        fake.add_customer(
            {
                "id": f"c{i:03d}",
                "phone": f"(415) 555-01{i % 100:02d}",
                "email": f"c{i}@example.com",
                "updated_at": f"2026-05-01T00:{i // 60:02d}:{i % 60:02d}Z",
            }
        )


@contextmanager
def serve(fake: GenericPos) -> Iterator[tuple[RunningPos, httpx2.Client]]:
    with running_pos(fake) as pos, httpx2.Client(base_url=pos.base_url, timeout=10) as client:
        yield pos, client


def _auth_kwargs(fake: GenericPos, client: httpx2.Client) -> dict[str, Any]:
    """What a correct client sends for the fake's auth style."""
    if fake.auth == "bearer":
        return {"headers": {"Authorization": f"Bearer {fake.token}"}}
    if fake.auth == "header":
        return {"headers": {fake.header_name: fake.api_key}}
    if fake.auth == "basic":
        return {"auth": (fake.username, fake.password)}
    if fake.auth == "query":
        return {"params": {fake.query_param: fake.api_key}}
    form = {"client_id": fake.client_id, "client_secret": fake.client_secret}
    if fake.auth == "oauth2_client_credentials":
        form["grant_type"] = "client_credentials"
    else:
        form.update(grant_type="password", username=fake.username, password=fake.password)
    token = client.post("/oauth/token", data=form)
    assert token.status_code == 200, token.text
    return {"headers": {"Authorization": f"Bearer {token.json()['access_token']}"}}


# -- auth -------------------------------------------------------------------------------------


@pytest.mark.parametrize("style", AUTH_STYLES)
def test_each_auth_style_accepts_right_and_rejects_wrong(style: Any) -> None:
    fake = GenericPos(auth=style, pagination="none")
    _customers(fake, 3)
    with serve(fake) as (_, client):
        assert client.get("/api/customers").status_code == 401
        kwargs = _auth_kwargs(fake, client)
        ok = client.get("/api/customers", **kwargs)
        assert ok.status_code == 200, ok.text
        assert [c["id"] for c in ok.json()] == ["c000", "c001", "c002"]
        table: dict[str, dict[str, Any]] = {
            "bearer": {"headers": {"Authorization": "Bearer nope"}},
            "header": {"headers": {fake.header_name: "nope"}},
            "basic": {"auth": (fake.username, "nope")},
            "query": {"params": {fake.query_param: "nope"}},
            "oauth2_client_credentials": {"headers": {"Authorization": "Bearer nope"}},
            "oauth2_password": {"headers": {"Authorization": "Bearer nope"}},
        }
        wrong = table[style]
        denied = client.get("/api/customers", **wrong)
        assert denied.status_code == 401
        assert denied.headers["content-type"].startswith("application/json")
        assert "error" in denied.json()


def test_header_auth_uses_the_configured_header_name() -> None:
    fake = GenericPos(auth="header", header_name="X-Partner-Key", api_key="k1", pagination="none")
    with serve(fake) as (_, client):
        assert client.get("/api/orders", headers={"X-Api-Key": "k1"}).status_code == 401
        assert client.get("/api/orders", headers={"X-Partner-Key": "k1"}).status_code == 200


@pytest.mark.parametrize("style", ["oauth2_client_credentials", "oauth2_password"])
def test_token_endpoint_rejects_wrong_credentials(style: Any) -> None:
    fake = GenericPos(auth=style)
    with serve(fake) as (_, client):
        grant = "client_credentials" if style == "oauth2_client_credentials" else "password"
        bad_client = client.post(
            "/oauth/token",
            data={
                "grant_type": grant,
                "client_id": fake.client_id,
                "client_secret": "x",
                "username": fake.username,
                "password": fake.password,
            },
        )
        assert bad_client.status_code == 401
        assert bad_client.json()["error"] == "invalid_client"
        wrong_grant = client.post(
            "/oauth/token",
            data={
                "grant_type": "authorization_code",
                "client_id": fake.client_id,
                "client_secret": fake.client_secret,
            },
        )
        assert wrong_grant.status_code == 400
        assert fake.token_requests == 2


def test_password_grant_checks_the_user() -> None:
    fake = GenericPos(auth="oauth2_password")
    with serve(fake) as (_, client):
        form = {
            "grant_type": "password",
            "client_id": fake.client_id,
            "client_secret": fake.client_secret,
            "username": fake.username,
            "password": "wrong",
        }
        response = client.post("/oauth/token", data=form)
        assert response.status_code == 401
        assert response.json()["error"] == "invalid_grant"


def test_client_credentials_via_basic_client_auth() -> None:
    fake = GenericPos(auth="oauth2_client_credentials")
    with serve(fake) as (_, client):
        response = client.post(
            "/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=(fake.client_id, fake.client_secret),
        )
        assert response.status_code == 200
        body = response.json()
        assert body["token_type"] == "Bearer"
        assert body["expires_in"] == 3600
        assert set(body) == {"access_token", "token_type", "expires_in"}


def test_token_expires_after_ttl_seconds_real_time() -> None:
    fake = GenericPos(auth="oauth2_client_credentials", token_ttl=1, pagination="none")
    with serve(fake) as (_, client):
        kwargs = _auth_kwargs(fake, client)
        assert client.get("/api/customers", **kwargs).status_code == 200
        time.sleep(1.1)
        expired = client.get("/api/customers", **kwargs)
        assert expired.status_code == 401
        assert expired.json()["error"] == "invalid_token"
        assert 'error="invalid_token"' in expired.headers["www-authenticate"]
        assert client.get("/api/customers", **_auth_kwargs(fake, client)).status_code == 200
        assert fake.token_requests == 2


def test_token_expiry_with_advance_and_expire_tokens() -> None:
    fake = GenericPos(auth="oauth2_password", token_ttl=2, pagination="none")
    with serve(fake) as (_, client):
        kwargs = _auth_kwargs(fake, client)
        fake.advance(1.5)
        assert client.get("/api/orders", **kwargs).status_code == 200
        fake.advance(1)
        assert client.get("/api/orders", **kwargs).status_code == 401
        kwargs = _auth_kwargs(fake, client)
        assert client.get("/api/orders", **kwargs).status_code == 200
        fake.expire_tokens()
        assert client.get("/api/orders", **kwargs).status_code == 401


def test_refresh_tokens_when_enabled() -> None:
    fake = GenericPos(auth="oauth2_client_credentials", issue_refresh_tokens=True, token_ttl=5)
    with serve(fake) as (_, client):
        first = client.post(
            "/oauth/token",
            data={
                "grant_type": "client_credentials",
                "client_id": fake.client_id,
                "client_secret": fake.client_secret,
            },
        ).json()
        assert "refresh_token" in first
        refreshed = client.post(
            "/oauth/token",
            data={
                "grant_type": "refresh_token",
                "refresh_token": first["refresh_token"],
                "client_id": fake.client_id,
                "client_secret": fake.client_secret,
            },
        )
        assert refreshed.status_code == 200
        assert refreshed.json()["access_token"] != first["access_token"]
        reused = client.post(
            "/oauth/token",
            data={
                "grant_type": "refresh_token",
                "refresh_token": first["refresh_token"],
                "client_id": fake.client_id,
                "client_secret": fake.client_secret,
            },
        )
        assert reused.status_code == 401  # refresh tokens rotate


def test_token_endpoint_wants_a_form() -> None:
    fake = GenericPos(auth="oauth2_client_credentials")
    with serve(fake) as (_, client):
        response = client.post(
            "/oauth/token",
            json={
                "grant_type": "client_credentials",
                "client_id": fake.client_id,
                "client_secret": fake.client_secret,
            },
        )
        assert response.status_code == 400


# -- pagination -------------------------------------------------------------------------------


def walk(fake: GenericPos, client: httpx2.Client, path: str, **params: Any) -> list[Any]:
    """Follow the fake's pagination style to the end; returns every record."""
    out: list[Any] = []
    style = fake.pagination
    kwargs = _auth_kwargs(fake, client)
    base_params = {**kwargs.pop("params", {}), **params}
    if style == "none":
        response = client.get(path, params=base_params, **kwargs)
        assert response.status_code == 200
        return list(response.json())
    if style in ("page", "offset"):
        n = 1 if style == "page" else 0
        while True:
            key = {"page": "page", "offset": "offset"}[style]
            response = client.get(path, params={**base_params, key: n}, **kwargs)
            body = response.json()
            assert set(body) == {"data", "total"}
            out.extend(body["data"])
            if not body["data"]:
                return out
            n += 1 if style == "page" else len(body["data"])
    if style == "cursor":
        cursor: str | None = None
        while True:
            query = dict(base_params) if cursor is None else {"cursor": cursor}
            body = client.get(path, params=query, **kwargs).json()
            out.extend(body["data"])
            cursor = body["next_cursor"]
            if cursor is None:
                return out
    url: str | None = path
    first = True
    while url is not None:
        response = client.get(url, params=base_params if first else None, **kwargs)
        first = False
        if style == "next_url":
            body = response.json()
            out.extend(body["results"])
            url = body["next"]
        else:
            out.extend(response.json())
            url = response.links.get("next", {}).get("url")
    return out


@pytest.mark.parametrize("style", PAGINATION_STYLES)
def test_each_pagination_style_walks_everything_in_updated_order(style: Any) -> None:
    fake = GenericPos(pagination=style, page_size=3)
    _customers(fake, 10)
    with serve(fake) as (_, client):
        got = walk(fake, client, "/api/customers")
        assert [c["id"] for c in got] == [f"c{i:03d}" for i in range(10)]


@pytest.mark.parametrize("style", PAGINATION_STYLES)
def test_updated_since_filters_in_every_style(style: Any) -> None:
    fake = GenericPos(pagination=style, page_size=2)
    _customers(fake, 7)
    with serve(fake) as (_, client):
        got = walk(fake, client, "/api/customers", updated_since="2026-05-01T00:00:03Z")
        assert [c["id"] for c in got] == ["c003", "c004", "c005", "c006"]
        # Offsets are understood; the boundary is inclusive.
        got = walk(fake, client, "/api/customers", updated_since="2026-04-30T17:00:05-07:00")
        assert [c["id"] for c in got] == ["c005", "c006"]


def test_page_shape_and_sizes() -> None:
    fake = GenericPos(pagination="page", page_size=4, max_page_size=5)
    _customers(fake, 9)
    with serve(fake) as (_, client):
        auth = _auth_kwargs(fake, client)
        body = client.get("/api/customers", **auth).json()
        assert body["total"] == 9
        assert len(body["data"]) == 4
        body = client.get("/api/customers", params={"page": 2, "per_page": 100}, **auth).json()
        assert [c["id"] for c in body["data"]] == ["c005", "c006", "c007", "c008"]  # clamped to 5
        assert client.get("/api/customers", params={"page": 0}, **auth).status_code == 400
        bad = client.get("/api/customers", params={"updated_since": "yesterday"}, **auth)
        assert bad.status_code == 400


def test_offset_shape() -> None:
    fake = GenericPos(pagination="offset", page_size=4)
    _customers(fake, 6)
    with serve(fake) as (_, client):
        auth = _auth_kwargs(fake, client)
        body = client.get("/api/customers", params={"offset": 4, "limit": 10}, **auth).json()
        assert body == {"data": body["data"], "total": 6}
        assert [c["id"] for c in body["data"]] == ["c004", "c005"]


def test_cursor_keeps_the_filter_and_has_null_at_end() -> None:
    fake = GenericPos(pagination="cursor", page_size=2)
    _customers(fake, 3)
    with serve(fake) as (_, client):
        auth = _auth_kwargs(fake, client)
        first = client.get(
            "/api/customers", params={"updated_since": "2026-05-01T00:00:01Z"}, **auth
        ).json()
        assert [c["id"] for c in first["data"]] == ["c001", "c002"]
        assert first["next_cursor"] is None
        assert client.get("/api/customers", params={"cursor": "%%%"}, **auth).status_code == 400


def test_next_url_is_absolute_and_link_has_rel_next_and_previous() -> None:
    fake = GenericPos(pagination="next_url", page_size=2)
    _customers(fake, 3)
    with serve(fake) as (pos, client):
        body = client.get("/api/customers", **_auth_kwargs(fake, client)).json()
        assert body["next"].startswith(pos.base_url + "/api/customers?")
    fake = GenericPos(pagination="link", page_size=2)
    _customers(fake, 5)
    with serve(fake) as (pos, client):
        auth = _auth_kwargs(fake, client)
        first = client.get("/api/customers", **auth)
        assert 'rel="next"' in first.headers["link"]
        second = client.get(first.links["next"]["url"], **auth)
        assert set(second.links) == {"next", "previous"}
        last = client.get(second.links["next"]["url"], **auth)
        assert set(last.links) == {"previous"}
        assert [c["id"] for c in last.json()] == ["c004"]


def test_query_auth_key_rides_along_in_next_links() -> None:
    fake = GenericPos(auth="query", pagination="next_url", page_size=1)
    _customers(fake, 2)
    with serve(fake) as (_, client):
        body = client.get("/api/customers", params={"api_key": fake.api_key}).json()
        assert client.get(body["next"]).status_code == 200


def test_orders_and_locations_endpoints() -> None:
    fake = GenericPos(pagination="none")
    fake.add_order({"id": "o1", "total": "12.50", "updated_at": "2026-05-02T00:00:00Z"})
    fake.add_location({"id": "l1", "name": "Downtown"})  # no updated_at: always listed
    with serve(fake) as (_, client):
        auth = _auth_kwargs(fake, client)
        params = {"updated_since": "2026-06-01T00:00:00Z"}
        assert client.get("/api/orders", params=params, **auth).json() == []
        assert client.get("/api/locations", params=params, **auth).json() == [
            {"id": "l1", "name": "Downtown"}
        ]


def test_update_changes_a_record_and_its_position() -> None:
    fake = GenericPos(pagination="none")
    _customers(fake, 3)
    fake.update("customers", "id", "c000", updated_at="2026-06-01T00:00:00Z", email=None)
    with serve(fake) as (_, client):
        got = client.get("/api/customers", **_auth_kwargs(fake, client)).json()
        assert [c["id"] for c in got] == ["c001", "c002", "c000"]
        assert got[-1]["email"] is None


# -- faults -----------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [200, 502])
def test_html_error_next(status: int) -> None:
    fake = GenericPos(pagination="page")
    fake.html_error_status = status
    fake.html_error_next = 1
    _customers(fake, 1)
    with serve(fake) as (_, client):
        auth = _auth_kwargs(fake, client)
        response = client.get("/api/customers", **auth)
        assert response.status_code == status
        assert response.headers["content-type"].startswith("text/html")
        assert response.text.lstrip().startswith("<!DOCTYPE html>")
        assert "</html>" in response.text
        assert client.get("/api/customers", **auth).status_code == 200


def test_missing_selector_next() -> None:
    fake = GenericPos(pagination="cursor")
    fake.missing_selector_next = 1
    with serve(fake) as (_, client):
        auth = _auth_kwargs(fake, client)
        response = client.get("/api/customers", **auth)
        assert response.status_code == 200
        assert response.json() == {"error": "temporarily unavailable"}
        assert "data" in client.get("/api/customers", **auth).json()


@pytest.mark.parametrize("style", ["cursor", "next_url", "link"])
def test_loop_cursor_returns_the_same_cursor_forever(style: Any) -> None:
    fake = GenericPos(pagination=style, page_size=2)
    fake.loop_cursor = True
    _customers(fake, 3)
    with serve(fake) as (_, client):
        auth = _auth_kwargs(fake, client)
        seen: list[str] = []
        url = "/api/customers"
        params: dict[str, str] | None = None
        for _ in range(4):
            response = client.get(url, params=params, **auth)
            if style == "cursor":
                token = response.json()["next_cursor"]
                params = {"cursor": token}
            elif style == "next_url":
                token = url = response.json()["next"]
            else:
                token = url = response.links["next"]["url"]
            seen.append(token)
        assert len(set(seen)) == 1


def test_server_errors_next_then_recovers() -> None:
    fake = GenericPos(auth="oauth2_client_credentials", pagination="none")
    with serve(fake) as (_, client):
        auth = _auth_kwargs(fake, client)
        fake.server_errors_next = 2
        fake.server_error_status = 502
        assert client.get("/api/customers", **auth).status_code == 502
        assert client.get("/api/customers", **auth).status_code == 502
        assert client.get("/api/customers", **auth).status_code == 200
        # Faults hit the token endpoint too (it is the next request).
        fake.server_errors_next = 1
        form = {
            "grant_type": "client_credentials",
            "client_id": fake.client_id,
            "client_secret": fake.client_secret,
        }
        assert client.post("/oauth/token", data=form).status_code == 502
        assert fake.statuses[-1] == 502


def test_rate_limited_next() -> None:
    fake = GenericPos(pagination="none")
    fake.rate_limited_next = 1
    fake.retry_after = 3
    with serve(fake) as (_, client):
        response = client.get("/api/customers", **_auth_kwargs(fake, client))
        assert response.status_code == 429
        assert response.headers["retry-after"] == "3"


def test_request_log() -> None:
    fake = GenericPos(auth="basic", pagination="page")
    with serve(fake) as (_, client):
        client.get(
            "/api/orders",
            params={"page": 2, "updated_since": "2026-01-01T00:00:00Z"},
            auth=(fake.username, fake.password),
        )
        client.get("/nowhere")
    (method, path, query, headers), not_found = fake.requests
    assert (method, path) == ("GET", "/api/orders")
    assert query == {"page": "2", "updated_since": "2026-01-01T00:00:00Z"}
    expected = base64.b64encode(f"{fake.username}:{fake.password}".encode()).decode()
    assert headers["authorization"] == f"Basic {expected}"
    assert "host" not in headers
    assert not_found.path == "/nowhere"
    assert fake.statuses == [200, 404]
    assert fake.requests_to("/api/") == [fake.requests[0]]


def test_generate_plain_records() -> None:
    fake = GenericPos(pagination="offset", page_size=40)
    assert fake.generate(30, 70, seed=1) == {"locations": 2, "customers": 30, "orders": 70}
    with serve(fake) as (_, client):
        orders = walk(fake, client, "/api/orders")
        assert len(orders) == 70
        stamps = [o["updated_at"] for o in orders]
        assert stamps == sorted(stamps)
        assert {o["location_id"] for o in orders} == {"loc_1", "loc_2"}
        assert len(walk(fake, client, "/api/customers")) == 30
        assert len(walk(fake, client, "/api/locations")) == 2
