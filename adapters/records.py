"""Canonical source records: what every adapter yields, before any mapping.

Adapters locate values; they do not interpret them. Fields hold the source's text
(trimmed, empty cells as ``None``) and the pure mapping layer (``connector.mapping``)
turns them into E.164 phones, cents, consent decisions. That keeps the rules for
messy values in one tested place for every source kind.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypeAlias


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a record was read, for error reports and replay.

    ``locator`` is human-readable (``customers_2026-11-01.csv row 17``); ``file`` and
    ``row`` are set for file sources (``row`` is the 1-based data row, header excluded).
    """

    source: str
    stream: str
    locator: str
    file: str | None = None
    row: int | None = None


@dataclass(frozen=True, slots=True)
class LineItem:
    sku: str
    qty: str


@dataclass(frozen=True, slots=True)
class CustomerRecord:
    origin: Origin
    customer_id: str | None
    phone: str | None = None
    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    sms_opt_in: str | None = None
    email_opt_in: str | None = None
    opt_in_source: str | None = None
    opt_in_at: str | None = None
    store_id: str | None = None
    updated_at: str | None = None
    raw: Mapping[str, str] = field(default_factory=dict)
    id_space: str | None = None
    """Whose ids ``customer_id`` is one of: by default this source's; a POS's org-wide
    customer list shares one space between that POS's sources (``org:<pos>``), so the
    same customer read by two store sources is one customer."""
    erased: bool = False
    """The source says this person's data was erased or the record deleted (Shopify
    ``REDACTED``, a POS description's ``erased_when``): never sent; a customer already
    synced is purged (connector/erasure.py)."""


@dataclass(frozen=True, slots=True)
class OrderRecord:
    """A sale. ``total`` is a decimal amount in dollars as text (``"$1,299.50"`` allowed);
    ``items`` is either the CSV cell text (``"sku:qty;sku:qty"``) or parsed line items."""

    origin: Origin
    order_id: str | None
    customer_id: str | None = None
    phone: str | None = None
    store_id: str | None = None
    completed_at: str | None = None
    total: str | None = None
    items: str | tuple[LineItem, ...] | None = None
    status: str | None = None
    raw: Mapping[str, str] = field(default_factory=dict)
    customer_id_space: str | None = None
    """The id space of ``customer_id`` (see :attr:`CustomerRecord.id_space`)."""
    customer_erased: bool = False
    """The source says the order's customer was erased (see :attr:`CustomerRecord.erased`):
    the order is not sent."""


@dataclass(frozen=True, slots=True)
class RefundRecord:
    """Money returned against an earlier order; ``amount`` in dollars as text.

    ``remainder`` (no ``amount``): the order was cancelled; refund whatever of it was
    delivered and not refunded yet. Nothing is sent when the order was never delivered.
    ``cumulative``: ``amount`` is the order's refunded total so far (a POS that keeps a
    running refund amount on the sale); the difference from what was sent is refunded.
    """

    origin: Origin
    refund_id: str | None
    order_id: str | None = None
    refunded_at: str | None = None
    amount: str | None = None
    remainder: bool = False
    cumulative: bool = False
    raw: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class LocationRecord:
    """A store of the retailer (a Sticker shipping location). ``store_id`` is the same id
    the customer and order rows carry, so routing and locations agree."""

    origin: Origin
    store_id: str | None
    name: str | None = None
    nickname: str | None = None
    address1: str | None = None
    address2: str | None = None
    city: str | None = None
    state: str | None = None
    zip: str | None = None
    country: str | None = None
    phone: str | None = None
    email: str | None = None
    contact_name: str | None = None
    is_default: str | None = None
    delivery_instructions: str | None = None
    raw: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class UnreadableRecord:
    """A row the adapter could not even split into fields (wrong field count...).

    It still reaches the engine so that it is recorded as rejected, never dropped.
    """

    origin: Origin
    reason: str
    message: str
    raw: Mapping[str, str] = field(default_factory=dict)


SourceRecord: TypeAlias = (CustomerRecord | OrderRecord | RefundRecord | LocationRecord
                           | UnreadableRecord)


_KINDS: dict[type, str] = {CustomerRecord: "customer", OrderRecord: "order",
                           RefundRecord: "refund", LocationRecord: "location",
                           UnreadableRecord: "unreadable"}
_ID_FIELDS = {"customer": "customer_id", "order": "order_id", "refund": "refund_id",
              "location": "store_id"}


def record_identity(record: SourceRecord) -> tuple[str, str | None]:
    """``(kind, the record's own id)``: what a corrected copy of the record shares with
    it, wherever it is read from (another file, another row)."""
    kind = _KINDS[type(record)]
    field_name = _ID_FIELDS.get(kind)
    value = getattr(record, field_name) if field_name else None
    return kind, (value.strip() or None) if isinstance(value, str) else None


def record_to_dict(record: SourceRecord) -> dict[str, Any]:
    """A JSON-ready copy of ``record`` (kept with a quarantined record, for replay)."""
    data: dict[str, Any] = dataclasses.asdict(record)
    data["kind"] = type(record).__name__
    return data


def record_from_dict(data: Mapping[str, Any]) -> SourceRecord:
    """The inverse of :func:`record_to_dict`; ``ValueError`` names what does not fit."""
    classes = {cls.__name__: cls for cls in _KINDS}
    values = dict(data)
    cls = classes.get(str(values.pop("kind", "")))
    if cls is None:
        raise ValueError(f"unknown record kind {data.get('kind')!r}")
    origin = values.get("origin")
    if not isinstance(origin, Mapping):
        raise ValueError("the stored record has no origin")
    values["origin"] = Origin(**origin)
    values["raw"] = {str(k): v for k, v in (values.get("raw") or {}).items()}
    if cls is OrderRecord and isinstance(values.get("items"), list):
        values["items"] = tuple(LineItem(**item) for item in values["items"])
    try:
        return cls(**values)  # type: ignore[no-any-return]
    except TypeError as exc:
        raise ValueError(f"the stored {cls.__name__} does not fit: {exc}") from exc
