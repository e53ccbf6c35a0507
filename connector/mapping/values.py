"""One import for the cell-level normalizers the record mappers use.

Each rule lives in its own small module; this module only gathers them::

    from connector.mapping.values import clean, parse_bool, parse_money_cents, parse_timestamp
"""

from __future__ import annotations

from connector.mapping.booleans import parse_bool
from connector.mapping.line_items import parse_items, parse_quantity
from connector.mapping.money import parse_money_cents
from connector.mapping.sentinels import clean
from connector.mapping.timestamps import parse_timestamp

__all__ = [
    "clean",
    "parse_bool",
    "parse_items",
    "parse_money_cents",
    "parse_quantity",
    "parse_timestamp",
]
