"""Reading values out of POS JSON: dotted paths, candidate lists, record selectors, text.

Adapters hand text to the mapping layer, which parses it; here only what the description
says about the *source* is applied: cents → dollars, epoch milliseconds → ISO, sentinels
("N/A", year-1900 dates, a ``"0"`` id) → nothing, and among several candidate paths the
first whose value is *usable* for the field (a valid phone, a readable time...) wins.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from adapters.pos.spec import AUTO, FieldSpec, Transform

_YEAR_1900 = re.compile(r"^(1900-01-01|01/01/1900|1/1/1900|0001-01-01)")

ENVELOPE_KEYS = ("data", "values", "results", "items", "records", "rows", "content",
                 "customers", "members", "orders", "transactions", "tickets", "ticketList",
                 "locations", "stores", "shops")
"""Where ``records = "auto"`` looks for the list in an object body, in this order."""

Usable = Callable[[str], bool]


def dig(record: Any, path: str) -> Any:
    """``dig({"a": {"b": [1, {"c": 2}]}}, "a.b.1.c") == 2``; ``None`` when absent."""
    value = record
    for part in path.split(".") if path else []:
        if isinstance(value, Mapping):
            value = value.get(part)
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return None
    return value


def text(value: Any) -> str | None:
    """JSON value → text as a CSV cell would hold it (``None`` for nothing)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, list | dict):
        return None
    result = str(value).strip()
    return result or None


def paths_of(spec: FieldSpec) -> list[str]:
    raw = spec.path if isinstance(spec, Transform) else spec
    return [raw] if isinstance(raw, str) else list(raw)


def field(record: Any, spec: FieldSpec | None, sentinels: Sequence[str] = (),
          usable: Usable | None = None) -> str | None:
    """The value of the first candidate path that is present and, when ``usable`` is
    given, usable after its transforms; failing that, the first present value (so the
    mapping layer rejects it with the field named); else the transform's default."""
    if spec is None:
        return None
    transform = spec if isinstance(spec, Transform) else None
    stop = set(sentinels) | set(transform.sentinels if transform else ())
    first: str | None = None
    for path in paths_of(spec):
        raw = text(dig(record, path))
        if raw is None or raw in stop or _YEAR_1900.match(raw):
            continue
        value = _apply(raw, transform) if transform is not None else raw
        if value is None:
            continue
        if usable is None or usable(value):
            return value
        if first is None:
            first = value
    if first is not None:
        return first
    return transform.default if transform is not None else None


def _apply(value: str, transform: Transform) -> str | None:
    if transform.opt_out:
        return "false" if value.lower() in {"true", "1", "y", "yes"} else None
    if transform.epoch_ms:
        try:
            return datetime.fromtimestamp(int(float(value)) / 1000, UTC).isoformat()
        except (ValueError, OverflowError, OSError):
            return value  # left for the mapping layer to reject with the field named
    if transform.cents or transform.absolute:
        return scale(value, cents=transform.cents, absolute=transform.absolute)
    return value


def scale(value: str, *, cents: bool = False, absolute: bool = False) -> str:
    """``"1299"`` in cents → ``"12.99"``; text that is not a number is left as it is."""
    try:
        amount = Decimal(value.replace(",", "").replace("$", ""))
    except InvalidOperation:
        return value
    if not amount.is_finite():
        return value
    if cents:
        amount = amount / 100
    if absolute:
        amount = abs(amount)
    return f"{amount:.2f}"


def matches(record: Any, conditions: Mapping[str, Sequence[str]]) -> bool:
    """All ``path → accepted values`` hold (compared as text, case-insensitively)."""
    for path, accepted in conditions.items():
        value = text(dig(record, path))
        if value is None or ("*" not in accepted
                             and value.lower() not in {a.lower() for a in accepted}):
            return False
    return bool(conditions)


def _auto(body: Any) -> list[Any] | None:
    if isinstance(body, list):
        return body
    if not isinstance(body, Mapping):
        return None
    for key in ENVELOPE_KEYS:
        value = body.get(key)
        if isinstance(value, list):
            return value
    nested = body.get("data")
    if isinstance(nested, Mapping):  # {"status": "ok", "data": {"customers": [...]}}
        return _auto(nested)
    return None


def select(body: Any, selectors: Sequence[str], *, single: bool = False) -> list[Any] | None:
    """The records at the first selector that finds them, or ``None``.

    A selector is a dotted path, ``""`` (the body itself) or ``"auto"``; with ``single``
    the body (at the selector) is one record."""
    for selector in selectors:
        if single:
            found = dig(body, selector) if selector not in ("", AUTO) else body
            if isinstance(found, Mapping):
                return [found]
            continue
        if selector == AUTO:
            records = _auto(body)
        else:
            found = dig(body, selector) if selector else body
            records = found if isinstance(found, list) else None
        if records is not None:
            return records
    return None


def describe(body: Any) -> str:
    """What a body holds, for an error that says where the records were not found."""
    if isinstance(body, Mapping):
        parts = []
        for key in list(body)[:12]:
            value = body[key]
            kind = ("list" if isinstance(value, list) else "object" if isinstance(
                value, Mapping) else "null" if value is None else type(value).__name__)
            inner = f" with keys {sorted(value)[:8]}" if isinstance(value, Mapping) else ""
            parts.append(f"{key} ({kind}{inner})")
        return "an object with keys " + ", ".join(parts) if parts else "an empty object"
    if isinstance(body, list):
        return f"a list of {len(body)}"
    return f"a {type(body).__name__}"
