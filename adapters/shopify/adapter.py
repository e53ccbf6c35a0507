"""ShopifyAdapter: locations (full refresh), customers and orders (incremental windows).

Windows (one cursor stream each, ``customers`` and ``orders``)::

    {"since": <ISO or null>, "until": <ISO>, "after": <page cursor or null>, "done": bool}

- ``until`` is the run's start minus ``safety_margin`` (records committed late at
  Shopify, and records updated during the run, are left to the next window).
- ``since`` is the previous window's ``until`` minus ``lookback``; for customers at least
  a whole day, because Shopify's customers ``updated_at`` filter matches whole days (and
  customers get no upper bound for the same reason). The overlap costs nothing: the
  ledger drops what was already delivered.
- Each page is a batch; its position carries the page cursor, so a killed run resumes
  inside the window with the same query. A window whose pages are all settled is
  ``done``; the next run starts a new one.
- Pagination stops with an error when a cursor repeats (a loop) or after
  ``MAX_PAGES``; page sizes shrink when a query's cost approaches Shopify's 1000 limit
  and halve on ``MAX_COST_EXCEEDED``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx2 as httpx
import structlog
from pydantic import SecretStr

from adapters.base import Adapter, Batch, Position, SourceState
from adapters.records import SourceRecord
from adapters.shopify import nodes, queries
from adapters.shopify.client import CostExceeded, ShopifyGraphQL
from connector.errors import SourceUnreadable

log = structlog.get_logger("adapters.shopify")

MAX_COST = 1000.0
COST_TARGET = 900.0
MAX_PAGES = 100_000
DAY = 86_400


@dataclass(frozen=True, slots=True)
class ShopifySettings:
    """What the adapter needs from the source's configuration."""

    endpoint: str
    api_version: str
    token: SecretStr
    lookback_seconds: int = 600
    safety_margin_seconds: int = 60
    start_date: date | None = None
    page_size: int = 50
    timeout_seconds: float = 30.0
    max_attempts: int = 6
    backfill_window_days: int = 30


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


class ShopifyAdapter(Adapter):
    kind = "shopify"

    def __init__(self, *, name: str, settings: ShopifySettings,
                 clock: Callable[[], float] = time.time,
                 sleep: Callable[[float], None] = time.sleep,
                 transport: httpx.BaseTransport | None = None) -> None:
        super().__init__(name)
        self.settings = settings
        self._clock = clock
        self._sleep = sleep
        self._transport = transport
        self._first: dict[str, int] = {}
        self.scopes_warning: str | None = None

    def client(self) -> ShopifyGraphQL:
        s = self.settings
        return ShopifyGraphQL(s.endpoint, s.api_version, s.token,
                              timeout_seconds=s.timeout_seconds, max_attempts=s.max_attempts,
                              sleep=self._sleep, transport=self._transport)

    def read(self, state: SourceState, batch_size: int) -> Iterator[Batch]:
        started = datetime.fromtimestamp(self._clock(), UTC)
        until = started - timedelta(seconds=self.settings.safety_margin_seconds)
        with self.client() as gql:
            self.check_scopes(gql)
            yield from self._locations(gql)
            yield from self._window(gql, state, "customers", until)
            yield from self._window(gql, state, "orders", until)

    def check_scopes(self, gql: ShopifyGraphQL) -> None:
        """Warn (once per run) when only the last 60 days of orders are visible."""
        data = gql.execute("AccessScopes", queries.SCOPES).data
        handles = {s.get("handle") for s in nodes._get(
            data, "currentAppInstallation", "accessScopes") or [] if isinstance(s, dict)}
        if "read_all_orders" not in handles:
            self.scopes_warning = (
                f"source {self.name}: the app lacks the read_all_orders scope; Shopify "
                "shows only the last 60 days of orders")
            log.warning("missing Shopify scope", detail=self.scopes_warning)
            self.notices.append("shopify_read_all_orders_missing")
        missing = {"read_orders", "read_customers"} - handles
        if missing and handles:
            raise SourceUnreadable(f"source {self.name}: the Shopify app lacks the scopes "
                                   f"{sorted(missing)}")

    # -- locations: small, read whole every run --------------------------------------
    def _locations(self, gql: ShopifyGraphQL) -> Iterator[Batch]:
        records: list[SourceRecord] = []
        for page in self._pages(gql, "Locations", queries.LOCATIONS, "locations", {}):
            records.extend(nodes.location_record(self.name, n)
                           for n in page.get("nodes") or [] if n.get("isActive", True))
        yield Batch("locations", records, {"read_at": iso(datetime.now(UTC))})

    # -- incremental windows -----------------------------------------------------------
    def _window(self, gql: ShopifyGraphQL, state: SourceState, stream: str,
                until: datetime) -> Iterator[Batch]:
        cursor = state.get_cursor(stream) or {}
        if cursor and not cursor.get("done"):
            since, upper, after = cursor.get("since"), str(cursor["until"]), cursor.get("after")
            log.info("resuming a Shopify window", stream=stream, since=since, until=upper)
        else:
            since, upper, after = self._since(stream, cursor), iso(until), None
        if stream == "customers":
            search = queries.search("updated_at", since, None)
            name, document = "CustomersDelta", queries.CUSTOMERS
        else:
            search = queries.search("updated_at", since, upper)
            name, document = "OrdersDelta", queries.ORDERS
        variables: dict[str, Any] = {"q": search}
        position: Position = {"since": since, "until": upper, "after": after, "done": False}
        for page in self._pages(gql, name, document, stream, variables, after=after):
            found = page.get("nodes") or []
            records: list[SourceRecord] = []
            for node in found:
                if stream == "customers":
                    records.append(nodes.customer_record(self.name, node))
                else:
                    records.extend(nodes.order_records(self.name, node))
            info = page.get("pageInfo") or {}
            done = not info.get("hasNextPage")
            position = {"since": since, "until": upper,
                        "after": None if done else info.get("endCursor"), "done": done}
            yield Batch(stream, records, position)
        if not position["done"]:  # no page at all (cannot happen with a sane answer)
            yield Batch(stream, [], {**position, "after": None, "done": True})

    def _since(self, stream: str, cursor: Position) -> str | None:
        previous = cursor.get("until")
        if previous is None:
            start = self.settings.start_date
            return None if start is None else f"{start.isoformat()}T00:00:00Z"
        lookback = self.settings.lookback_seconds
        if stream == "customers":
            lookback = max(lookback, DAY)
        return iso(parse_iso(str(previous)) - timedelta(seconds=lookback))

    def _pages(self, gql: ShopifyGraphQL, name: str, document: str, root: str,
               variables: dict[str, Any], *, after: str | None = None
               ) -> Iterator[dict[str, Any]]:
        seen: set[str] = set()
        for _ in range(MAX_PAGES):
            page = self._page(gql, name, document, root, {**variables, "after": after})
            yield page
            info = page.get("pageInfo") or {}
            if not info.get("hasNextPage"):
                return
            after = info.get("endCursor")
            if not isinstance(after, str) or not after or after in seen:
                raise SourceUnreadable(f"source {self.name}: Shopify {root} pagination "
                                       f"loops or has no cursor (cursor {after!r} again)")
            seen.add(after)
        raise SourceUnreadable(f"source {self.name}: more than {MAX_PAGES} pages of {root}")

    def _page(self, gql: ShopifyGraphQL, name: str, document: str, root: str,
              variables: dict[str, Any]) -> dict[str, Any]:
        sized = "$first" in document
        while True:
            first = self._first.setdefault(root, self.settings.page_size)
            if sized:
                variables["first"] = first
            try:
                answer = gql.execute(name, document, variables)
            except CostExceeded as exc:
                if not sized or first <= 1:
                    raise SourceUnreadable(f"source {self.name}: {exc}") from exc
                self._first[root] = max(1, first // 2)
                log.info("shopify query too expensive; halving the page", query=name,
                         page_size=self._first[root], cost=exc.cost)
                continue
            if sized and answer.requested_cost:
                per_node = max(1.0, (answer.requested_cost - 2) / first)
                self._first[root] = max(1, min(250, int(COST_TARGET // per_node)))
            page = answer.data.get(root)
            if not isinstance(page, dict):
                raise SourceUnreadable(f"source {self.name}: Shopify answered {name} "
                                       f"without {root}")
            return page
