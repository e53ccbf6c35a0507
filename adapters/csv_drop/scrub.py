"""Removing erased customers' rows from the CSV files a drop folder keeps (``processed/``,
``rejected/`` and its ``*.errors.csv`` reports): docs/privacy.md.

A file is rewritten only when one of its rows matched, atomically (a temporary file in
the same folder, fsynced, then renamed over the original), in its own encoding and
delimiter. Bytes that were not valid in that encoding are written back as they were.
A file that cannot be read as text is reported, never guessed at.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from adapters.base import ErasedRow, Scrubbed
from adapters.csv_drop import files
from adapters.csv_drop.columns import AliasTables, header_names, normalize
from adapters.csv_drop.errors import FileLevelError
from adapters.csv_drop.probe import probe
from adapters.csv_drop.reader import Row, open_table
from adapters.csv_drop.report import write_atomic


def scrub_folders(folders: Iterable[Path], erased_row: ErasedRow,
                  aliases: AliasTables) -> Scrubbed:
    report = Scrubbed()
    for folder in folders:
        if not folder.is_dir():
            continue
        for path in sorted(folder.iterdir()):
            if path.is_file() and path.name.lower().endswith(".csv"):
                _scrub_file(path, folder, erased_row, aliases, report)
    return report


def _scrub_file(path: Path, folder: Path, erased_row: ErasedRow, aliases: AliasTables,
                report: Scrubbed) -> None:
    where = f"{folder.name}/{path.name}"
    encoding = probe(path).encoding
    if encoding is None:
        report.unreadable.append(where)
        return
    try:
        with open_table(path, encoding, errors="surrogateescape") as table:
            if table.header is None:
                return
            header, delimiter = table.header, table.delimiter
            id_column = _customer_id_column(path.name, header, aliases)
            kept: list[list[str]] = []
            dropped = 0
            for row in table.rows:
                if not isinstance(row, Row):
                    continue  # a row the csv module refused: it cannot be written back
                if erased_row(row.cells, id_column):
                    dropped += 1
                else:
                    kept.append(row.cells)
    except (FileLevelError, csv.Error, OSError):
        report.unreadable.append(where)
        return
    if not dropped:
        return
    write_atomic(path, header, kept, encoding=encoding, delimiter=delimiter,
                 errors="surrogateescape", safe=False)
    report.files.append(where)
    report.rows += dropped


def _customer_id_column(name: str, header: Sequence[str],
                        aliases: AliasTables) -> int | None:
    kind = files.kind_of(name.replace(".errors.csv", ".csv"))
    table: Mapping[str, str] = aliases.get(kind, {}) if kind else {}
    for index, column in enumerate(header_names(header)):
        if table.get(normalize(column)) == "customer_id":
            return index
    return None
