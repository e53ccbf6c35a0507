"""CSV exports: the shared text form of times and rows (cells a spreadsheet would run
as formulas neutralised, ``connector/spreadsheet.py``)."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import datetime

from connector.spreadsheet import safe_dict


def iso_z(moment: datetime | None) -> str:
    """``2026-12-03T07:00:00Z``, or empty for no time."""
    return "" if moment is None else moment.isoformat(timespec="seconds").replace(
        "+00:00", "Z")


def csv_text(columns: Sequence[str], rows: Sequence[dict[str, str]]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(columns), lineterminator="\n")
    writer.writeheader()
    writer.writerows(safe_dict(row, columns) for row in rows)
    return buffer.getvalue()
