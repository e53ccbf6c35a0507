"""CSV exports: the shared text form of times and rows."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import datetime


def iso_z(moment: datetime | None) -> str:
    """``2026-12-03T07:00:00Z``, or empty for no time."""
    return "" if moment is None else moment.isoformat(timespec="seconds").replace(
        "+00:00", "Z")


def csv_text(columns: Sequence[str], rows: Sequence[dict[str, str]]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(columns), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()
