"""ShopifyBackfill: orders of a date range through bulk operations.

The range is cut into windows of ``backfill_window_days`` (by ``created_at``). Per window:
``bulkOperationRunQuery`` → poll ``bulkOperation(id:)`` until it ends → download the JSONL
to a temporary file → join line items to their order by ``__parentId`` (children may be
anywhere in the file: ``groupObjects`` is false) → batches of orders in file order.

One cursor stream per backfill, ``backfill:<since>:<until>``, independent of the
incremental windows (it neither needs nor moves them)::

    {"window": <index>, "operation": <gid or null>, "orders": <orders settled>,
     "done": bool}

A killed backfill resumes in its window: the same operation's file when it is still
downloadable (skipping the orders already settled), else a new operation. Either way the
ledger keeps anything already delivered from being sent again.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import IO, Any

import structlog

from adapters.base import Adapter, Batch, SourceState
from adapters.records import SourceRecord
from adapters.shopify import nodes, queries
from adapters.shopify.adapter import ShopifySettings, iso
from adapters.shopify.client import ShopifyGraphQL
from connector.errors import SourceUnreadable
from connector.http.lib import httpx

log = structlog.get_logger("adapters.shopify")

POLL_SECONDS = (0.2, 0.5, 1.0, 2.0, 5.0, 10.0)
"""Waits between polls: quick at first (small windows finish fast), then 10 s."""
MAX_WAIT_SECONDS = 6 * 3600.0
DONE = frozenset({"COMPLETED", "FAILED", "CANCELED", "EXPIRED"})


def windows(since: date, until: date, days: int) -> list[tuple[datetime, datetime]]:
    start = datetime(since.year, since.month, since.day, tzinfo=UTC)
    end = datetime(until.year, until.month, until.day, tzinfo=UTC)
    found = []
    while start < end:
        found.append((start, min(end, start + timedelta(days=days))))
        start += timedelta(days=days)
    return found


class ShopifyBackfill(Adapter):
    kind = "shopify"

    def __init__(self, *, name: str, settings: ShopifySettings, since: date, until: date,
                 sleep: Callable[[float], None] = time.sleep,
                 transport: httpx.BaseTransport | None = None) -> None:
        super().__init__(name)
        self._transport = transport
        if until <= since:
            raise ValueError("--until must be after --since")
        self.settings = settings
        self.since = since
        self.until = until
        self._sleep = sleep
        self.stream = f"backfill:{since.isoformat()}:{until.isoformat()}"
        self.windows = windows(since, until, settings.backfill_window_days)
        self._first_window = 0
        self._skipped_orders = 0
        self._window_orders: dict[int, int] = {}
        """Window index → orders in it (the bulk operation's rootObjectCount)."""
        self._orders_read = 0
        self._records_read = 0

    @property
    def expected_records(self) -> int | None:
        """Orders of the windows this read covers (counted by Shopify once a window's
        bulk operation finished; the rest extrapolated from the orders per day of the
        finished ones) times the records per order seen so far."""
        if not self._window_orders:
            return None
        known_days = sum((self.windows[i][1] - self.windows[i][0]).total_seconds()
                         for i in self._window_orders) / 86400
        per_day = sum(self._window_orders.values()) / max(known_days, 1e-9)
        orders = -self._skipped_orders
        for index in range(self._first_window, len(self.windows)):
            start, end = self.windows[index]
            orders += self._window_orders.get(
                index, round(per_day * (end - start).total_seconds() / 86400))
        per_order = self._records_read / self._orders_read if self._orders_read else 1.0
        return max(self._records_read, round(max(0, orders) * per_order))

    def read(self, state: SourceState, batch_size: int) -> Iterator[Batch]:
        cursor = state.get_cursor(self.stream) or {}
        if cursor.get("done"):
            log.info("backfill already complete", stream=self.stream)
            return
        s = self.settings
        with ShopifyGraphQL(s.endpoint, s.api_version, s.token,
                            timeout_seconds=s.timeout_seconds, max_attempts=s.max_attempts,
                            sleep=self._sleep, transport=self._transport,
                            source=self.name) as gql:
            first = int(cursor.get("window") or 0)
            self._first_window = first
            self._skipped_orders = int(cursor.get("orders") or 0)
            for index in range(first, len(self.windows)):
                resume = cursor if index == first else {}
                yield from self._window(gql, index, resume, batch_size)
            yield Batch(self.stream, [], {"window": len(self.windows), "operation": None,
                                          "orders": 0, "done": True})

    def _window(self, gql: ShopifyGraphQL, index: int, resume: dict[str, Any],
                batch_size: int) -> Iterator[Batch]:
        start, end = self.windows[index]
        operation = resume.get("operation")
        skip = int(resume.get("orders") or 0)
        url: str | None = None
        if isinstance(operation, str):
            url = self._finished_url(gql, operation, index, reuse=True)
            if url is None and skip:
                log.info("bulk result gone; running the window again", operation=operation)
            if url is None:
                operation, skip = None, 0
                self._skipped_orders = 0
        if operation is None:
            operation = self._start(gql, queries.search("created_at", iso(start), iso(end)))
            url = self._finished_url(gql, operation, index, reuse=False)
        log.info("bulk window", window=f"{iso(start)}..{iso(end)}", operation=operation,
                 resume_after=skip)
        settled = skip
        records: list[SourceRecord] = []
        orders_in_batch = 0
        for order in self._orders(gql, url, skip):
            records.extend(order)
            orders_in_batch += 1
            self._orders_read += 1
            self._records_read += len(order)
            if len(records) >= batch_size:
                settled += orders_in_batch
                yield Batch(self.stream, records, self._position(index, operation, settled))
                records, orders_in_batch = [], 0
        settled += orders_in_batch
        yield Batch(self.stream, records, {"window": index + 1, "operation": None,
                                           "orders": 0, "done": False})
        log.info("bulk window done", window=index, orders=settled)

    @staticmethod
    def _position(index: int, operation: str, orders: int) -> dict[str, Any]:
        return {"window": index, "operation": operation, "orders": orders, "done": False}

    def _start(self, gql: ShopifyGraphQL, search: str | None) -> str:
        assert search is not None
        for attempt in range(1, 31):
            data = gql.execute("BulkRun", queries.BULK_RUN,
                               {"query": queries.bulk_orders_query(search)}).data
            result = data.get("bulkOperationRunQuery") or {}
            errors = result.get("userErrors") or []
            operation = nodes._get(result, "bulkOperation", "id")
            if not errors and isinstance(operation, str):
                return operation
            busy = any(e.get("code") == "OPERATION_IN_PROGRESS"
                       or "already in progress" in str(e.get("message", "")) for e in errors)
            if not busy:
                raise SourceUnreadable(f"source {self.name}: Shopify refused the bulk query: "
                                       + "; ".join(str(e.get("message")) for e in errors))
            log.info("bulk operations busy; waiting", attempt=attempt)
            self._sleep(min(30.0, 2.0 * attempt))
        raise SourceUnreadable(f"source {self.name}: Shopify kept refusing a bulk query "
                               "(operations in progress)")

    def _finished_url(self, gql: ShopifyGraphQL, operation: str, index: int, *,
                      reuse: bool) -> str | None:
        """Poll until the operation ends; its result URL (``""`` for no results).
        With ``reuse``, ``None`` when the old operation cannot be used any more."""
        waited = 0.0
        polls = 0
        while True:
            op = gql.execute("BulkPoll", queries.BULK_POLL, {"id": operation}).data.get(
                "bulkOperation")
            status = op.get("status") if isinstance(op, dict) else None
            if status == "COMPLETED":
                assert isinstance(op, dict)
                count = str(op.get("rootObjectCount") or "0")
                self._window_orders[index] = int(count) if count.isdigit() else 0
                return str(op.get("url") or "")
            if status in DONE or status is None:
                if reuse:
                    return None
                detail = op.get("errorCode") if isinstance(op, dict) else "not found"
                raise SourceUnreadable(
                    f"source {self.name}: bulk operation {operation} ended {status} "
                    f"({detail}); run the backfill again to retry the window")
            wait = POLL_SECONDS[min(polls, len(POLL_SECONDS) - 1)]
            if waited > MAX_WAIT_SECONDS:
                raise SourceUnreadable(f"source {self.name}: bulk operation {operation} "
                                       f"still {status} after {waited:.0f} s")
            self._sleep(wait)
            waited += wait
            polls += 1

    def _orders(self, gql: ShopifyGraphQL, url: str | None, skip: int
                ) -> Iterator[list[SourceRecord]]:
        """Each order's records, in file order, after the first ``skip`` orders."""
        if not url:
            return
        with tempfile.TemporaryFile() as raw:
            gql.download(url, raw)
            children = _children(raw)
            raw.seek(0)
            seen = 0
            for line in raw:
                node = _line(line)
                if node is None or "__parentId" in node:
                    continue
                seen += 1
                if seen <= skip:
                    continue
                items = children.pop(str(node.get("id")), [])
                yield nodes.order_records(self.name, node, line_items=items)


def _line(line: bytes) -> dict[str, Any] | None:
    text = line.strip()
    if not text:
        return None
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise SourceUnreadable(f"bulk result has a line that is not JSON: {exc}") from exc
    return value if isinstance(value, dict) else None


def _children(raw: IO[bytes]) -> dict[str, list[dict[str, Any]]]:
    """First pass: child lines grouped by ``__parentId`` (they may be anywhere)."""
    raw.seek(0)
    found: dict[str, list[dict[str, Any]]] = {}
    for line in raw:
        node = _line(line)
        if node is not None and "__parentId" in node:
            found.setdefault(str(node.pop("__parentId")), []).append(node)
    return found
