"""Cells of the CSV files the tool writes for a person to open (errors reports, pass and
loyalty exports): a cell a spreadsheet would run as a formula is neutralised.

OWASP's rule (CSV injection): a cell that begins with ``=``, ``+``, ``-``, ``@``, a tab or
a carriage return gets a single quote in front, so Excel, LibreOffice and Google Sheets
show it as text. Plain numbers (``-12.50``) and E.164 phone numbers (``+14155550123``)
are left as they are: they are data, not formulas, and a quote would spoil them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(?:\d+(?:[.,]\d+)*|\d*\.\d+)(?:[eE][+-]?\d+)?")
_E164 = re.compile(r"\+[1-9]\d{6,14}")


def safe_cell(value: object) -> str:
    text = "" if value is None else str(value)
    if not text.startswith(FORMULA_STARTS):
        return text
    if _NUMBER.fullmatch(text) or _E164.fullmatch(text):
        return text
    return "'" + text


def safe_row(cells: Iterable[object]) -> list[str]:
    return [safe_cell(cell) for cell in cells]


def safe_dict(row: Mapping[str, object], columns: Sequence[str]) -> dict[str, str]:
    return {column: safe_cell(row.get(column)) for column in columns}
