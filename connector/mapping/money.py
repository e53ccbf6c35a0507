"""Dollar amounts as text → integer cents, exactly (``decimal``, never ``float``)."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal

from connector.errors import InvalidRecord
from connector.mapping.masking import excerpt
from connector.mapping.sentinels import clean

MAX_AMOUNT = Decimal("10000000.00")
"""Largest accepted absolute amount in dollars; anything above is a corrupt cell, not a sale."""

_MAX_TEXT = 64
_CENT = Decimal("0.01")
# A value this close to a whole cent is a binary-float rendering of it (Excel writes
# 19.99 as 19.990000000000002); a real sub-cent amount such as 1.005 is much further away.
_FLOAT_NOISE = Decimal("0.000001")

_AMOUNT = re.compile(
    r"""
    (?P<open>\()?\s*           # accounting negative: (12.00)
    (?P<minus>-)?\s*           # -12.00, -$12.00
    (?:USD\s*)?                # USD 12.00
    \$?\s*                     # $12.00, $ 12
    (?P<minus_after>-)?\s*     # $-12.00
    (?P<number>[0-9][0-9,]*(?:\.[0-9]*)?|\.[0-9]+)
    \s*(?:USD)?\s*             # 12.00 USD
    (?P<close>\))?
    """,
    re.VERBOSE | re.IGNORECASE,
)
# Commas are only ever US thousands separators: 1,299 and 12,345,678, never 12,50.
_GROUPED = re.compile(r"[0-9]{1,3}(?:,[0-9]{3})+")


def parse_money_cents(raw: str | None, *, field: str, allow_negative: bool = False) -> int:
    """``"$1,299.50"`` → ``129950``.

    Accepted: an optional ``$`` and/or ``USD`` code, spaces around them, comma thousands
    separators in groups of three, a leading minus or accounting parentheses for negatives.
    Rejected (``invalid_amount``): European decimal commas (``12,50``, ``1.299,50``), several
    decimal points, letters, amounts above :data:`MAX_AMOUNT`, and fractions of a cent other
    than float noise (see ``_FLOAT_NOISE``). An empty cell or a sentinel (``N/A``) is
    ``missing_amount``; a negative amount is ``negative_amount`` unless ``allow_negative``.
    """
    text = clean(raw)
    if text is None:
        raise InvalidRecord("missing_amount", f"{field}: no amount", field=field)
    negative, amount = _parse(text, field)
    if negative and amount != 0:
        if not allow_negative:
            raise InvalidRecord(
                "negative_amount", f"{field}: {excerpt(text)} is negative", field=field
            )
        amount = -amount
    return int(amount * 100)


def _parse(text: str, field: str) -> tuple[bool, Decimal]:
    """Return (is negative, absolute amount rounded to cents)."""
    if len(text) > _MAX_TEXT:
        raise _invalid(field, text, "is too long to be an amount")
    match = _AMOUNT.fullmatch(text)
    if match is None:
        raise _invalid(field, text, "is not a dollar amount like 1,299.50")
    if bool(match["open"]) != bool(match["close"]):
        raise _invalid(field, text, "has an unbalanced parenthesis")
    signs = [match["open"], match["minus"], match["minus_after"]]
    if sum(1 for sign in signs if sign) > 1:
        raise _invalid(field, text, "has more than one minus sign")
    number = match["number"]
    whole = number.split(".", 1)[0]
    if "," in whole and not _GROUPED.fullmatch(whole):
        raise _invalid(field, text, "has a comma that is not a thousands separator")
    value = Decimal(number.replace(",", ""))  # exact: any digit string is a valid Decimal
    if value > MAX_AMOUNT:
        raise _invalid(field, text, f"is above the {MAX_AMOUNT:,} limit")
    # Cannot overflow the default 28-digit context: value <= MAX_AMOUNT.
    cents = value.quantize(_CENT, rounding=ROUND_HALF_UP)
    if abs(value - cents) >= _FLOAT_NOISE:
        raise _invalid(field, text, "has fractions of a cent")
    return any(signs), cents


def _invalid(field: str, text: str, problem: str) -> InvalidRecord:
    return InvalidRecord("invalid_amount", f"{field}: {excerpt(text)} {problem}", field=field)


def dollars(cents: int) -> str:
    """``129950`` → ``"$1,299.50"`` (for messages)."""
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(cents), 100)
    return f"{sign}${whole:,}.{part:02d}"
