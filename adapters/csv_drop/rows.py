"""A split CSV row -> one canonical source record (values located, never interpreted)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Final

from adapters.csv_drop.columns import Columns, StreamKind
from adapters.records import (
    CustomerRecord,
    LocationRecord,
    OrderRecord,
    Origin,
    RefundRecord,
    SourceRecord,
    UnreadableRecord,
)

Values = Mapping[str, str | None]


def origin(source: str, kind: StreamKind, file_name: str, row: int) -> Origin:
    return Origin(source=source, stream=kind, locator=f"{file_name} row {row}",
                  file=file_name, row=row)


def build(origin: Origin, kind: StreamKind, columns: Columns,
          cells: Sequence[str]) -> SourceRecord:
    """The record for one data row, or an :class:`UnreadableRecord` if it overflows.

    A row with more non-empty cells than the header (typically an unquoted
    ``$1,299.50``) is never shifted into place; trailing empty extras (a trailing
    comma) are harmless. Missing trailing cells are ``None``.
    """
    raw = raw_row(columns, cells)
    width = len(columns.header)
    used = _used_width(cells)
    if used > width:
        return UnreadableRecord(
            origin=origin, reason="malformed_row", raw=raw,
            message=(f"row {origin.row} of {origin.file} has {used} fields but the header "
                     f"has {width} (an unquoted comma?)"))
    values: dict[str, str | None] = {
        name: _value(cells[index]) if index < len(cells) else None
        for name, index in columns.fields.items()
    }
    return _BUILDERS[kind](origin, values, raw)


def raw_row(columns: Columns, cells: Sequence[str]) -> dict[str, str]:
    """``{header name: cell text as written}``; extra cells under ``column_<n>``."""
    raw = dict(zip(columns.keys, cells, strict=False))
    for index in range(len(columns.keys), len(cells)):
        key = f"column_{index + 1}"
        while key in raw:
            key += "_"
        raw[key] = cells[index]
    return raw


def _used_width(cells: Sequence[str]) -> int:
    used = len(cells)
    while used and not cells[used - 1].strip():
        used -= 1
    return used


def _value(cell: str) -> str | None:
    return cell.strip() or None


def _customer(origin: Origin, v: Values, raw: dict[str, str]) -> CustomerRecord:
    return CustomerRecord(
        origin=origin, customer_id=v.get("customer_id"), phone=v.get("phone"),
        email=v.get("email"), first_name=v.get("first_name"), last_name=v.get("last_name"),
        sms_opt_in=v.get("sms_opt_in"), email_opt_in=v.get("email_opt_in"),
        opt_in_source=v.get("opt_in_source"), opt_in_at=v.get("opt_in_at"),
        store_id=v.get("store_id"), updated_at=v.get("updated_at"), raw=raw)


def _order(origin: Origin, v: Values, raw: dict[str, str]) -> OrderRecord:
    return OrderRecord(
        origin=origin, order_id=v.get("order_id"), customer_id=v.get("customer_id"),
        phone=v.get("phone"), store_id=v.get("store_id"), completed_at=v.get("completed_at"),
        total=v.get("total"), items=v.get("items"), status=v.get("status"), raw=raw)


def _refund(origin: Origin, v: Values, raw: dict[str, str]) -> RefundRecord:
    return RefundRecord(
        origin=origin, refund_id=v.get("refund_id"), order_id=v.get("order_id"),
        refunded_at=v.get("refunded_at"), amount=v.get("amount"), raw=raw)


def _location(origin: Origin, v: Values, raw: dict[str, str]) -> LocationRecord:
    return LocationRecord(
        origin=origin, store_id=v.get("store_id"), name=v.get("name"),
        nickname=v.get("nickname"), address1=v.get("address1"), address2=v.get("address2"),
        city=v.get("city"), state=v.get("state"), zip=v.get("zip"), country=v.get("country"),
        phone=v.get("phone"), email=v.get("email"), contact_name=v.get("contact_name"),
        is_default=v.get("is_default"), delivery_instructions=v.get("delivery_instructions"),
        raw=raw)


_BUILDERS: Final[Mapping[StreamKind, Callable[[Origin, Values, dict[str, str]], SourceRecord]]] = {
    "customers": _customer,
    "orders": _order,
    "refunds": _refund,
    "locations": _location,
}
