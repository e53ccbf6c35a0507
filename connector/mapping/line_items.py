"""Line items: quantities and the ``sku:qty;sku:qty`` cell of CSV order exports."""

from __future__ import annotations

import re
import unicodedata

from connector.errors import InvalidRecord
from connector.mapping.masking import excerpt
from connector.mapping.sentinels import clean, has_control

MAX_QUANTITY = 10_000
"""Largest quantity on one retail line; above it the cell is corrupt (an id in the wrong column)."""

MAX_ITEMS = 500
MAX_SKU_LENGTH = 128

# Whole numbers, allowing the ".0" that spreadsheets append ("2.0", "2.00").
_WHOLE = re.compile(r"\+?([0-9]{1,9})(?:\.0+)?")


def parse_quantity(raw: str | None, *, field: str) -> int:
    """A positive whole quantity: ``"2"``, ``" 2 "``, ``"2.0"`` → ``2``.

    ``0``, negatives, fractions (``2.5``), text and anything above :data:`MAX_QUANTITY` are
    ``invalid_quantity``; so is an empty cell (a line without a quantity is not a line).
    """
    text = clean(raw)
    if text is None:
        raise InvalidRecord("invalid_quantity", f"{field}: no quantity", field=field)
    match = _WHOLE.fullmatch(text)
    if match is None:
        raise InvalidRecord(
            "invalid_quantity", f"{field}: {excerpt(text)} is not a whole number", field=field
        )
    qty = int(match[1])
    if not 1 <= qty <= MAX_QUANTITY:
        raise InvalidRecord(
            "invalid_quantity",
            f"{field}: {excerpt(text)} is outside 1..{MAX_QUANTITY}",
            field=field,
        )
    return qty


def parse_items(raw: str | None, *, field: str = "items") -> list[dict[str, object]]:
    """Read an items cell: ``"cd-pre-1g-1:2; GUM_10mg:1"`` →
    ``[{"sku": "cd-pre-1g-1", "qty": 2}, {"sku": "GUM_10mg", "qty": 1}]``.

    Segments are separated by ``;`` and split on their *last* colon, so a SKU may itself
    contain colons (``a:b:2`` is SKU ``a:b``). SKUs keep their case and characters; only
    surrounding whitespace is removed. Empty segments (a trailing ``;``) are skipped; an empty
    cell is an empty list. Repeated SKUs stay separate lines, as the source had them.
    Segment numbers in messages count every segment, empty ones included, from 1.
    """
    text = clean(raw)
    if text is None:
        return []
    if raw is not None and has_control(raw):  # a SKU is an identity: never silently edited
        text = raw.strip()
    items: list[dict[str, object]] = []
    for number, segment in enumerate(text.split(";"), start=1):
        part = segment.strip()
        if not part:
            continue
        if len(items) == MAX_ITEMS:
            raise InvalidRecord(
                "invalid_items",
                f"{field}: more than {MAX_ITEMS} line items",
                field=field,
            )
        items.append(_parse_segment(part, number, field))
    return items


def _parse_segment(part: str, number: int, field: str) -> dict[str, object]:
    where = f"{field}: segment {number} {excerpt(part)}"
    sku, colon, qty_text = part.rpartition(":")
    if not colon:
        raise InvalidRecord("invalid_items", f"{where} is not sku:qty", field=field)
    sku = sku.strip()
    if not sku:
        raise InvalidRecord("invalid_items", f"{where} is not sku:qty (empty sku)", field=field)
    if len(sku) > MAX_SKU_LENGTH or any(unicodedata.category(c) == "Cc" for c in sku):
        raise InvalidRecord(
            "invalid_items",
            f"{where} is not sku:qty (sku too long or has control characters)",
            field=field,
        )
    try:
        qty = parse_quantity(qty_text, field=field)
    except InvalidRecord as exc:
        raise InvalidRecord(
            "invalid_items", f"{where} is not sku:qty (bad quantity)", field=field
        ) from exc
    return {"sku": sku, "qty": qty}
