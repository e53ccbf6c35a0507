"""``GenericPos``: a configurable POS REST API for testing the generic, config-driven adapter.

Three list endpoints over in-memory JSON records — ``GET /api/customers``, ``/api/orders``,
``/api/locations`` — with one auth style and one pagination style per instance, an
``updated_since`` filter, a token endpoint for the OAuth2 styles, and the fault switches of
:class:`~tests.pos_fake.common.PosFake`. See README.md for the exact wire formats.
"""

from __future__ import annotations

import base64
import binascii
import copy
import json
import random
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal
from urllib.parse import urlencode

from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.pos_fake.common import Call, HttpError, PosFake, basic_credentials, money, parse_iso
from tests.pos_fake.data import PHONE_STYLES, People

AuthStyle = Literal[
    "bearer", "header", "basic", "query", "oauth2_client_credentials", "oauth2_password"
]
PaginationStyle = Literal["page", "offset", "cursor", "next_url", "link", "none"]
AUTH_STYLES: tuple[AuthStyle, ...] = (
    "bearer",
    "header",
    "basic",
    "query",
    "oauth2_client_credentials",
    "oauth2_password",
)
PAGINATION_STYLES: tuple[PaginationStyle, ...] = (
    "page",
    "offset",
    "cursor",
    "next_url",
    "link",
    "none",
)
RESOURCES = ("customers", "orders", "locations")
TOKEN_PATH = "/oauth/token"
OAUTH_STYLES = frozenset({"oauth2_client_credentials", "oauth2_password"})


@dataclass
class IssuedToken:
    value: str
    expires_at: datetime
    kind: Literal["access", "refresh"]


def _error(message: str) -> dict[str, str]:
    return {"error": message}


def _encode_token(state: dict[str, Any]) -> str:
    raw = json.dumps(state, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_token(token: str, name: str) -> dict[str, Any]:
    try:
        padded = token + "=" * (-len(token) % 4)
        state = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, binascii.Error):
        raise HttpError(400, _error(f"invalid {name}")) from None
    if not isinstance(state, dict) or not isinstance(state.get("o"), int):
        raise HttpError(400, _error(f"invalid {name}"))
    return state


class GenericPos(PosFake):
    """A generic POS API. Every argument after ``auth``/``pagination``/``page_size`` is a
    credential or a setting with a test default (see README.md)."""

    def __init__(
        self,
        *,
        auth: AuthStyle = "bearer",
        pagination: PaginationStyle = "page",
        page_size: int = 50,
        max_page_size: int = 250,
        token: str = "test-token",
        header_name: str = "X-Api-Key",
        api_key: str = "test-api-key",
        query_param: str = "api_key",
        username: str = "test-user",
        password: str = "test-password",
        client_id: str = "test-client-id",
        client_secret: str = "test-client-secret",
        token_ttl: float = 3600,
        issue_refresh_tokens: bool = False,
        now: datetime | None = None,
    ) -> None:
        super().__init__(now=now)
        if auth not in AUTH_STYLES:
            raise ValueError(f"unknown auth style {auth!r}; one of {AUTH_STYLES}")
        if pagination not in PAGINATION_STYLES:
            raise ValueError(f"unknown pagination {pagination!r}; one of {PAGINATION_STYLES}")
        self.auth: AuthStyle = auth
        self.pagination: PaginationStyle = pagination
        self.page_size = page_size
        self.max_page_size = max_page_size
        self.token = token
        self.header_name = header_name
        self.api_key = api_key
        self.query_param = query_param
        self.username = username
        self.password = password
        self.client_id = client_id
        self.client_secret = client_secret
        self.token_ttl = token_ttl
        self.issue_refresh_tokens = issue_refresh_tokens
        self.loop_cursor = False
        """cursor / next_url / link styles: every page hands back the same next cursor."""
        self.records: dict[str, list[dict[str, Any]]] = {name: [] for name in RESOURCES}
        self.token_requests = 0
        """Requests to ``POST /oauth/token`` (any outcome)."""
        self.tokens: dict[str, IssuedToken] = {}

    # -- data ------------------------------------------------------------------------------
    def add(self, resource: str, record: dict[str, Any]) -> dict[str, Any]:
        """Append a copy of ``record`` to ``resource`` (customers/orders/locations)."""
        if resource not in self.records:
            raise ValueError(f"unknown resource {resource!r}")
        stored = copy.deepcopy(record)
        with self.lock:
            self.records[resource].append(stored)
        return copy.deepcopy(stored)

    def add_customer(self, record: dict[str, Any]) -> dict[str, Any]:
        return self.add("customers", record)

    def add_order(self, record: dict[str, Any]) -> dict[str, Any]:
        return self.add("orders", record)

    def add_location(self, record: dict[str, Any]) -> dict[str, Any]:
        return self.add("locations", record)

    def update(self, resource: str, key: str, value: Any, **changes: Any) -> dict[str, Any]:
        """Change the first record of ``resource`` whose ``key`` equals ``value``."""
        with self.lock:
            for record in self.records[resource]:
                if record.get(key) == value:
                    record.update(copy.deepcopy(changes))
                    return copy.deepcopy(record)
        raise KeyError(f"no {resource} record with {key}={value!r}")

    def generate(
        self, n_customers: int, n_orders: int, seed: int = 0, *, days: int = 30
    ) -> dict[str, int]:
        """Plain records (field names are the fake's own, documented in README.md): two
        locations, ``n_customers`` customers with phones in varied formats, ``n_orders``
        orders, all with ``updated_at`` over the last ``days`` days (``Z`` timestamps)."""
        rng = random.Random(seed)
        people = People(rng, "CA")
        now = self.now().replace(microsecond=0)

        def stamp() -> str:
            moment = now - timedelta(seconds=rng.randint(0, days * 86_400))
            return moment.strftime("%Y-%m-%dT%H:%M:%SZ")

        for n, name in enumerate(("Downtown", "Uptown"), 1):
            self.add_location({"id": f"loc_{n}", "name": name, "updated_at": stamp()})
        ids = []
        for n in range(1, n_customers + 1):
            person = people.next()
            ids.append(f"cus_{n:05d}")
            self.add_customer(
                {
                    "id": ids[-1],
                    "first_name": person.first,
                    "last_name": person.last,
                    "phone": person.phone(rng.choice(PHONE_STYLES)),
                    "email": person.email if rng.random() > 0.05 else None,
                    "sms_opt_in": rng.random() < 0.4,
                    "updated_at": stamp(),
                }
            )
        for n in range(1, n_orders + 1):
            qty = rng.randint(1, 3)
            price = rng.choice((12.0, 22.0, 35.0, 40.0))
            updated = stamp()
            self.add_order(
                {
                    "id": f"ord_{n:05d}",
                    "customer_id": rng.choice(ids) if ids and rng.random() > 0.1 else None,
                    "location_id": rng.choice(("loc_1", "loc_2")),
                    "total": f"{money(qty * price * 1.0825):.2f}",
                    "currency": "USD",
                    "created_at": updated,
                    "updated_at": updated,
                    "items": [{"sku": f"SKU-{int(price)}", "qty": qty, "price": f"{price:.2f}"}],
                }
            )
        return {"locations": 2, "customers": n_customers, "orders": n_orders}

    # -- tokens ------------------------------------------------------------------------------
    def expire_tokens(self) -> None:
        """Make every issued access token expired (refresh tokens stay valid)."""
        with self.lock:
            past = self.now() - timedelta(seconds=1)
            for issued in self.tokens.values():
                if issued.kind == "access":
                    issued.expires_at = past

    # -- routes ------------------------------------------------------------------------------
    def routes(self) -> list[Route]:
        routes = [
            Route(f"/api/{name}", self.endpoint(self._lister(name)), methods=["GET"])
            for name in RESOURCES
        ]
        if self.auth in OAUTH_STYLES:
            routes.append(Route(TOKEN_PATH, self.endpoint(self._token), methods=["POST"]))
        return routes

    # -- auth --------------------------------------------------------------------------------
    def _unauthorized(self, message: str, *, bearer_error: str | None = None) -> HttpError:
        headers: dict[str, str] = {}
        if self.auth == "basic":
            headers["WWW-Authenticate"] = 'Basic realm="pos"'
        elif self.auth in {"bearer", *OAUTH_STYLES}:
            headers["WWW-Authenticate"] = (
                f'Bearer error="{bearer_error}"' if bearer_error else "Bearer"
            )
        body = {"error": bearer_error or "unauthorized", "error_description": message}
        return HttpError(401, body, headers)

    def _check_auth(self, call: Call) -> None:
        if self.auth == "bearer":
            if call.headers.get("authorization") != f"Bearer {self.token}":
                raise self._unauthorized("missing or invalid bearer token")
        elif self.auth == "header":
            if call.headers.get(self.header_name) != self.api_key:
                raise self._unauthorized(f"missing or invalid {self.header_name}")
        elif self.auth == "basic":
            if basic_credentials(call) != (self.username, self.password):
                raise self._unauthorized("invalid username or password")
        elif self.auth == "query":
            if call.query.get(self.query_param) != self.api_key:
                raise self._unauthorized(f"missing or invalid {self.query_param}")
        else:
            header = call.headers.get("authorization", "")
            scheme, _, value = header.partition(" ")
            issued = self.tokens.get(value) if scheme.lower() == "bearer" else None
            if issued is None or issued.kind != "access":
                raise self._unauthorized("invalid access token", bearer_error="invalid_token")
            if self.now() >= issued.expires_at:
                raise self._unauthorized("the access token expired", bearer_error="invalid_token")

    def _token(self, call: Call) -> Response:
        self.token_requests += 1
        if not call.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            raise HttpError(
                400,
                {
                    "error": "invalid_request",
                    "error_description": "send application/x-www-form-urlencoded",
                },
            )
        form = call.form
        client = basic_credentials(call) or (form.get("client_id"), form.get("client_secret"))
        if client != (self.client_id, self.client_secret):
            raise HttpError(
                401,
                {"error": "invalid_client", "error_description": "client authentication failed"},
            )
        grant = form.get("grant_type")
        wanted = "client_credentials" if self.auth == "oauth2_client_credentials" else "password"
        if grant == "refresh_token" and self.issue_refresh_tokens:
            issued = self.tokens.get(form.get("refresh_token", ""))
            if issued is None or issued.kind != "refresh":
                raise HttpError(
                    401, {"error": "invalid_grant", "error_description": "bad refresh token"}
                )
            del self.tokens[issued.value]
        elif grant != wanted:
            raise HttpError(
                400,
                {
                    "error": "unsupported_grant_type",
                    "error_description": f"grant_type must be {wanted}",
                },
            )
        elif grant == "password" and (form.get("username"), form.get("password")) != (
            self.username,
            self.password,
        ):
            raise HttpError(
                401, {"error": "invalid_grant", "error_description": "bad username or password"}
            )
        now = self.now()
        access = IssuedToken(
            "at_" + secrets.token_urlsafe(18), now + timedelta(seconds=self.token_ttl), "access"
        )
        self.tokens[access.value] = access
        body: dict[str, Any] = {
            "access_token": access.value,
            "token_type": "Bearer",
            "expires_in": int(self.token_ttl),
        }
        if self.issue_refresh_tokens:
            refresh = IssuedToken(
                "rt_" + secrets.token_urlsafe(18), now + timedelta(days=30), "refresh"
            )
            self.tokens[refresh.value] = refresh
            body["refresh_token"] = refresh.value
        return JSONResponse(body, headers={"Cache-Control": "no-store"})

    # -- lists -------------------------------------------------------------------------------
    def _lister(self, resource: str) -> Any:
        def handle(call: Call) -> Response:
            self._check_auth(call)
            return self._list(resource, call)

        return handle

    def _limit(self, call: Call, name: str) -> int:
        raw = call.query.get(name)
        if raw in (None, ""):
            return self.page_size
        try:
            value = int(raw)
        except ValueError:
            raise HttpError(400, _error(f"{name} must be an integer")) from None
        if value < 1:
            raise HttpError(400, _error(f"{name} must be >= 1"))
        return min(value, self.max_page_size)

    def _selected(self, resource: str, since: str | None, before: str | None) -> list[Any]:
        lower = _filter_time(since, "updated_since")
        upper = _filter_time(before, "updated_before")
        rows: list[tuple[datetime | None, int, dict[str, Any]]] = []
        for index, record in enumerate(self.records[resource]):
            stamp = record.get("updated_at")
            when = parse_iso(stamp) if isinstance(stamp, str) else None
            if when is not None:
                if lower is not None and when < lower:
                    continue
                if upper is not None and when >= upper:
                    continue
            rows.append((when, index, record))
        rows.sort(key=lambda row: (row[0] is not None, row[0] or datetime.min, row[1]))
        return [copy.deepcopy(row[2]) for row in rows]

    def _list(self, resource: str, call: Call) -> Response:
        style = self.pagination
        query = call.query
        if style in ("page", "offset", "none"):
            items = self._selected(
                resource, query.get("updated_since"), query.get("updated_before")
            )
            if style == "none":
                return self.list_response(items)
            if style == "page":
                page = _positive(call, "page", 1)
                size = self._limit(call, "per_page")
                start = (page - 1) * size
            else:
                start = _positive(call, "offset", 0, minimum=0)
                size = self._limit(call, "limit")
            return self.list_response({"data": items[start : start + size], "total": len(items)})
        token_name = {"cursor": "cursor", "next_url": "page_token", "link": "page_info"}[style]
        raw_token = query.get(token_name)
        if raw_token:
            state = _decode_token(raw_token, token_name)
        else:
            state = {
                "o": 0,
                "s": query.get("updated_since"),
                "b": query.get("updated_before"),
            }
        size = self._limit(call, "limit")
        items = self._selected(resource, state.get("s"), state.get("b"))
        offset: int = state["o"]
        page_items = items[offset : offset + size]
        more = offset + size < len(items)
        next_token: str | None = None
        if self.loop_cursor:
            next_token = _encode_token({**state, "o": size})
        elif more:
            next_token = _encode_token({**state, "o": offset + size})
        if style == "cursor":
            return self.list_response({"data": page_items, "next_cursor": next_token})
        next_url = (
            None if next_token is None else self._page_url(call, token_name, next_token, size)
        )
        if style == "next_url":
            return self.list_response({"results": page_items, "next": next_url})
        links = []
        if next_url is not None:
            links.append(f'<{next_url}>; rel="next"')
        if offset > 0:
            previous = _encode_token({**state, "o": max(0, offset - size)})
            links.append(f'<{self._page_url(call, token_name, previous, size)}>; rel="previous"')
        return self.list_response(page_items, headers={"Link": ", ".join(links)} if links else None)

    def _page_url(self, call: Call, token_name: str, token: str, size: int) -> str:
        params = {token_name: token, "limit": str(size)}
        if self.auth == "query":
            # The key rides along, as APIs with query-string keys do in their next links.
            params[self.query_param] = call.query.get(self.query_param, "")
        return f"{call.base_url}{call.path}?{urlencode(params)}"


def _filter_time(value: str | None, name: str) -> datetime | None:
    if value in (None, ""):
        return None
    parsed = parse_iso(value)
    if parsed is None:
        raise HttpError(400, _error(f"{name} must be an ISO-8601 timestamp, got {value!r}"))
    return parsed


def _positive(call: Call, name: str, default: int, *, minimum: int = 1) -> int:
    raw = call.query.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError:
        raise HttpError(400, _error(f"{name} must be an integer")) from None
    if value < minimum:
        raise HttpError(400, _error(f"{name} must be >= {minimum}"))
    return value
