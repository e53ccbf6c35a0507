"""Yes/no cells (opt-in flags, checkboxes) as booleans."""

from __future__ import annotations

import re

from connector.errors import InvalidRecord
from connector.mapping.masking import excerpt
from connector.mapping.sentinels import clean

_TRUE = frozenset(
    {"true", "t", "1", "1.0", "y", "yes", "on", "x", "checked", "opted_in", "subscribed"}
)
_FALSE = frozenset({"false", "f", "0", "0.0", "n", "no", "off", "unchecked", "opted_out",
                    "unsubscribed"})
_ACCEPTED = (
    "true/false, t/f, yes/no, y/n, 1/0, on/off, x, checked/unchecked, opted_in/opted_out, "
    "subscribed/unsubscribed"
)
# "Opted In", "opted-in" and "opted_in" are the same answer.
_SEPARATORS = re.compile(r"[\s\-]+")


def parse_bool(raw: str | None, *, field: str) -> bool | None:
    """Read a yes/no cell; ``None`` when the cell is empty or a sentinel such as ``N/A``.

    ``None`` means "the source did not say", which the consent rules treat as *not* opted in;
    it is never turned into ``False`` here so that the caller can tell the two apart. Anything
    that is neither a known yes nor a known no is rejected rather than guessed.
    """
    text = clean(raw)
    if text is None:
        return None
    word = _SEPARATORS.sub("_", text.casefold())
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    raise InvalidRecord(
        "invalid_boolean",
        f"{field}: {excerpt(text)} is not a yes/no value (accepted: {_ACCEPTED})",
        field=field,
    )
