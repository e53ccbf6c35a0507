"""The ``*.errors.csv`` report an operator opens next to a rejected or processed file.

Columns: the file's own header, then ``error_row, error_reason, error_field,
error_message``; one line per rejected row, so fixed rows can be re-dropped as a file.
Written atomically (temp file in the same folder + ``os.replace``): a reader never sees
half a report, and rewriting it after a crash just replaces it. Cells a spreadsheet
would run as formulas are neutralised (``connector/spreadsheet.py``).
"""

from __future__ import annotations

import csv
import os
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Final

from adapters.base import RecordedRejection
from connector.spreadsheet import safe_row

ERROR_COLUMNS: Final = ("error_row", "error_reason", "error_field", "error_message")
ENCODING: Final = "utf-8-sig"
"""With a BOM, so that Excel shows accented names correctly."""


def errors_path(folder: Path, file_name: str) -> Path:
    return folder / f"{file_name}.errors.csv"


def write_errors(path: Path, header: Sequence[str], keys: Sequence[str],
                 rejections: Iterable[RecordedRejection]) -> None:
    """Write one line per rejection; ``keys`` are the ``raw`` keys of the header columns."""
    rows = ([*(r.raw.get(key, "") for key in keys), str(r.row or 0), r.reason,
             r.field or "", r.message] for r in rejections)
    write_atomic(path, [*header, *ERROR_COLUMNS], rows)


def write_atomic(path: Path, header: Sequence[str], rows: Iterable[Sequence[str]], *,
                 encoding: str = ENCODING, delimiter: str = ",", errors: str = "strict",
                 safe: bool = True) -> None:
    """Write a CSV file whole or not at all (temp file, fsync, rename). ``safe``: cells
    a spreadsheet would run as formulas are neutralised (off to rewrite a source file
    as it was, as the erasure scrub does)."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    # mkstemp creates the file with mode 600: errors reports hold personal data
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    clean = safe_row if safe else list
    try:
        with os.fdopen(fd, "w", encoding=encoding, errors=errors, newline="") as f:
            writer = csv.writer(f, delimiter=delimiter)
            writer.writerow(clean(header))
            writer.writerows(clean(row) for row in rows)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
