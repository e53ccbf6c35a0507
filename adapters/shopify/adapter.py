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
- Pagination stops with an error when a cursor repeats (a loop) or after ``MAX_PAGES``.

Page sizes (``customers`` and ``orders``; locations are read 250 at a time) are learned
from Shopify's ``requestedQueryCost`` and kept between runs in a cursor stream of their
own, committed as soon as a size changes (not part of any batch)::

    "tuning": {"page_size": {"customers": <n>, "orders": <n>}}

- A run starts from the learned size, else the configured ``page_size``; sizes never
  exceed Shopify's maximum ``first`` (250).
- ``MAX_COST_EXCEEDED`` halves the size and asks again.
- After each page, the requested cost gives the cost of one node (Shopify computes it
  from the query before running it: ``2 + first * node cost``, the same for every page),
  hence the size that keeps a page under ``COST_TARGET`` (900 of Shopify's 1000): the
  next page is asked at that size, smaller or larger. So a run that once needed several
  ``MAX_COST_EXCEEDED`` answers to find its size starts the next run there, and a size
  cut by a one-off expensive answer is back to what fits after one page.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import structlog
from pydantic import SecretStr

from adapters.base import Adapter, Batch, Position, SourceState
from adapters.records import SourceRecord
from adapters.shopify import nodes, queries
from adapters.shopify.client import CostExceeded, ShopifyGraphQL
from connector.errors import SourceUnreadable
from connector.http.lib import httpx

log = structlog.get_logger("adapters.shopify")

MAX_COST = 1000.0
COST_TARGET = 900.0
MAX_PAGES = 100_000
MAX_FIRST = 250
"""Shopify's largest ``first`` on a connection."""
DAY = 86_400
TUNING_STREAM = "tuning"
"""The cursor stream that keeps the learned page sizes (not a window: no records)."""


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


class PageSizes:
    """The page size of each paged query (by its root field): ``start`` until one is
    learned, at most Shopify's ``MAX_FIRST``; learned from requested costs and saved in
    ``state`` (when given) whenever it changes."""

    def __init__(self, start: int, state: SourceState | None = None) -> None:
        self.start = min(MAX_FIRST, max(1, start))
        self._state = state
        self._cursor: Position = (state.get_cursor(TUNING_STREAM) or {}) if state else {}
        stored = self._cursor.get("page_size")
        self._saved: dict[str, int] = {
            root: size for root, size in (stored.items() if isinstance(stored, dict) else ())
            if isinstance(size, int) and not isinstance(size, bool) and size >= 1}
        self._sizes = {root: min(size, MAX_FIRST) for root, size in self._saved.items()}

    def size(self, root: str) -> int:
        return self._sizes.setdefault(root, self.start)

    def halve(self, root: str) -> int:
        """After ``MAX_COST_EXCEEDED``; the new size."""
        self._sizes[root] = max(1, self.size(root) // 2)
        return self._sizes[root]

    def measured(self, root: str, first: int, requested_cost: float) -> None:
        """A page of ``first`` nodes was asked at ``requested_cost``: size the next one."""
        per_node = max(1.0, (requested_cost - 2) / max(1, first))
        self._sizes[root] = max(1, min(MAX_FIRST, int(COST_TARGET // per_node)))
        self._save(root)

    def _save(self, root: str) -> None:
        size = self._sizes[root]
        if self._state is None or self._saved.get(root) == size:
            return
        self._saved[root] = size
        self._cursor = {**self._cursor, "page_size": dict(self._saved)}
        self._state.put_cursor(TUNING_STREAM, self._cursor)
        log.info("shopify page size learned", query=root, page_size=size)


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
        self.page_sizes = PageSizes(settings.page_size)
        """This run's page sizes (from the state once ``read`` starts)."""
        self.scopes_warning: str | None = None

    def client(self) -> ShopifyGraphQL:
        s = self.settings
        return ShopifyGraphQL(s.endpoint, s.api_version, s.token,
                              timeout_seconds=s.timeout_seconds, max_attempts=s.max_attempts,
                              sleep=self._sleep, transport=self._transport,
                              source=self.name)

    def read(self, state: SourceState, batch_size: int) -> Iterator[Batch]:
        started = datetime.fromtimestamp(self._clock(), UTC)
        self.page_sizes = PageSizes(self.settings.page_size, state)
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
            first = self.page_sizes.size(root)
            if sized:
                variables["first"] = first
            try:
                answer = gql.execute(name, document, variables)
            except CostExceeded as exc:
                if not sized or first <= 1:
                    raise SourceUnreadable(f"source {self.name}: {exc}") from exc
                log.info("shopify query too expensive; halving the page", query=name,
                         page_size=self.page_sizes.halve(root), cost=exc.cost)
                continue
            if sized and answer.requested_cost:
                self.page_sizes.measured(root, first, answer.requested_cost)
            page = answer.data.get(root)
            if not isinstance(page, dict):
                raise SourceUnreadable(f"source {self.name}: Shopify answered {name} "
                                       f"without {root}")
            return page
