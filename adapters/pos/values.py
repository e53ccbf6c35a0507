"""Reading values out of POS JSON: dotted paths, first-present alternatives, text.

Adapters hand text to the mapping layer, which parses it; here only what the description
says about the *source* is applied: cents → dollars, epoch milliseconds → ISO, sentinels
("N/A", year-1900 dates, a ``"0"`` id) → nothing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from adapters.pos.spec import FieldSpec, Transform

_YEAR_1900 = re.compile(r"^(1900-01-01|01/01/1900|0001-01-01)")


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


def field(record: Any, spec: FieldSpec | None, sentinels: Sequence[str] = ()) -> str | None:
    """The first present value among the spec's paths, transformed, as text."""
    if spec is None:
        return None
    transform = spec if isinstance(spec, Transform) else None
    raw_paths: str | list[str] = transform.path if transform is not None else (
        spec if isinstance(spec, str | list) else [])
    paths: list[str] = [raw_paths] if isinstance(raw_paths, str) else list(raw_paths)
    stop = set(sentinels) | set(transform.sentinels if transform else ())
    for path in paths:
        value = text(dig(record, path))
        if value is None or value in stop or _YEAR_1900.match(value):
            continue
        return _apply(value, transform) if transform is not None else value
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
        try:
            amount = Decimal(value)
        except InvalidOperation:
            return value
        if transform.cents:
            amount = amount / 100
        if transform.absolute:
            amount = abs(amount)
        return f"{amount:.2f}"
    return value


def matches(record: Any, conditions: Mapping[str, Sequence[str]]) -> bool:
    """All ``path → accepted values`` hold (compared as text, case-insensitively)."""
    for path, accepted in conditions.items():
        value = text(dig(record, path))
        if value is None or ("*" not in accepted
                             and value.lower() not in {a.lower() for a in accepted}):
            return False
    return bool(conditions)


def select(body: Any, path: str, *, single: bool = False) -> list[Any] | None:
    """The records list at ``path`` (empty path: the body itself), or ``None``."""
    found = dig(body, path) if path else body
    if single:
        return [found] if isinstance(found, dict) else None
    return found if isinstance(found, list) else None
