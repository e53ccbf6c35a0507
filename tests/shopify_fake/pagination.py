"""Cursor pagination as Shopify does it: keyset on ``(sort value, id)``.

Cursors are base64 of ``{"last_id":<id>,"last_value":"<sort value>"}`` exactly like the
real ones (``orders_page_with_cursor__shopify_dev_2026-01.json``): time sort values look like
``"2005-07-31 15:57:11.000000"``, the ``ID`` sort value is the id as a string.

Keyset means a page starts strictly after the cursor's ``(value, id)``, not at an offset:
a record whose sort value changes while a client paginates (an order updated during an
``UPDATED_AT`` walk) moves, as on Shopify.

A cursor only makes sense for the query + sort key it came from; the fake remembers which
``(resource, query, sortKey)`` each cursor was issued for (:class:`CursorRegistry`) and
rejects any other use with a GraphQL error.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

MAX_PAGE_SIZE = 250


class PaginationError(Exception):
    """Becomes a field error on the connection (``path: ["orders"]``)."""


@dataclass(frozen=True)
class SortSpec:
    """How one sort key orders records and how it reads and writes cursor values."""

    value: Callable[[Any], Any]
    to_cursor: Callable[[Any], str]
    from_cursor: Callable[[str], Any]


def _time_to_cursor(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def _time_from_cursor(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%d %H:%M:%S.%f").replace(tzinfo=UTC)


def _decimal_from_cursor(text: str) -> Decimal:
    try:
        return Decimal(text)
    except InvalidOperation as exc:
        raise ValueError(text) from exc


def time_sort(getter: Callable[[Any], datetime]) -> SortSpec:
    return SortSpec(getter, _time_to_cursor, _time_from_cursor)


def id_sort() -> SortSpec:
    return SortSpec(lambda record: record.id, str, int)


def int_sort(getter: Callable[[Any], int]) -> SortSpec:
    return SortSpec(getter, str, int)


def text_sort(getter: Callable[[Any], str]) -> SortSpec:
    return SortSpec(lambda record: getter(record).lower(), str, str)


def decimal_sort(getter: Callable[[Any], Decimal]) -> SortSpec:
    return SortSpec(getter, str, _decimal_from_cursor)


def encode_cursor(last_id: int, last_value: str) -> str:
    payload = json.dumps({"last_id": last_id, "last_value": last_value}, separators=(",", ":"))
    return base64.b64encode(payload.encode()).decode()


def decode_cursor(cursor: str) -> tuple[int, str]:
    """``(last_id, last_value)``; ValueError if it is not a Shopify-shaped cursor."""
    try:
        payload = json.loads(base64.b64decode(cursor.encode(), validate=True))
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise ValueError(cursor) from exc
    if not isinstance(payload, dict):
        raise ValueError(cursor)
    last_id, last_value = payload.get("last_id"), payload.get("last_value")
    if not isinstance(last_id, int) or not isinstance(last_value, str):
        raise ValueError(cursor)
    return last_id, last_value


class CursorRegistry:
    """Which context (resource, query, sort key...) each issued cursor belongs to.

    Not thread-safe by itself: the fake calls it under its lock.
    """

    def __init__(self) -> None:
        self._issued: set[tuple[str, Hashable]] = set()

    def issue(self, cursor: str, context: Hashable) -> None:
        self._issued.add((cursor, context))

    def valid(self, cursor: str, context: Hashable) -> bool:
        return (cursor, context) in self._issued

    def clear(self) -> None:
        self._issued.clear()


@dataclass(frozen=True)
class Page:
    items: list[Any]
    cursors: list[str]
    has_next_page: bool
    has_previous_page: bool


def _invalid_cursor(argument: str, cursor: str) -> PaginationError:
    return PaginationError(
        f'Invalid cursor for {argument}: "{cursor}". The cursor must come from the same '
        "query, sortKey and connection. Fetch a new cursor and try again."
    )


def check_page_size(
    connection: str, first: int | None, last: int | None, *, required: bool = True
) -> None:
    if first is not None and last is not None:
        raise PaginationError(
            f"Passing both `first` and `last` to paginate the `{connection}` connection "
            "is not supported."
        )
    if required and first is None and last is None:
        raise PaginationError("you must provide one of first or last")
    for name, size in (("first", first), ("last", last)):
        if size is None:
            continue
        if size < 0:
            raise PaginationError(f"`{name}` on the `{connection}` connection cannot be negative.")
        if size > MAX_PAGE_SIZE:
            raise PaginationError(
                f"The `{name}` argument on the `{connection}` connection is {size}, which is "
                f"greater than the maximum of {MAX_PAGE_SIZE}."
            )


def paginate(
    records: Sequence[Any],
    spec: SortSpec,
    *,
    reverse: bool,
    first: int | None,
    after: str | None,
    last: int | None,
    before: str | None,
    registry: CursorRegistry | None,
    context: Hashable,
) -> Page:
    """One page of ``records`` (already filtered). ``registry=None``: bulk, no cursors issued."""

    def key(record: Any) -> tuple[Any, int]:
        return (spec.value(record), record.id)

    ordered = sorted(records, key=key, reverse=reverse)

    def position(argument: str, cursor: str) -> tuple[Any, int]:
        if registry is not None and not registry.valid(cursor, context):
            raise _invalid_cursor(argument, cursor)
        try:
            last_id, last_value = decode_cursor(cursor)
            return (spec.from_cursor(last_value), last_id)
        except (ValueError, TypeError) as exc:
            raise _invalid_cursor(argument, cursor) from exc

    def comes_after(record_key: tuple[Any, int], mark: tuple[Any, int]) -> bool:
        return record_key < mark if reverse else record_key > mark

    window = ordered
    dropped_before = dropped_after = False
    if after is not None:
        mark = position("after", after)
        kept = [r for r in window if comes_after(key(r), mark)]
        dropped_before = len(kept) < len(window)
        window = kept
    if before is not None:
        mark = position("before", before)
        kept = [r for r in window if comes_after(mark, key(r))]
        dropped_after = len(kept) < len(window)
        window = kept
    items = window
    has_next = dropped_after
    has_previous = dropped_before
    if first is not None and len(window) > first:
        items = window[:first]
        has_next = True
    elif last is not None and len(window) > last:
        items = window[len(window) - last :]
        has_previous = True
    cursors = [encode_cursor(r.id, spec.to_cursor(spec.value(r))) for r in items]
    if registry is not None:
        for cursor in cursors:
            registry.issue(cursor, context)
    return Page(items, cursors, has_next, has_previous)
