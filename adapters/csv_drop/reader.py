"""Streaming a drop file as a header and numbered data rows.

Rows are numbered 1.. counting only non-blank records: a blank line, or one holding
only delimiters and whitespace, is not a row; a quoted field spanning lines is one row.
Nothing is held beyond the current row.
"""

from __future__ import annotations

import csv
import itertools
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from adapters.csv_drop.errors import FileLevelError

DELIMITERS: Final = (",", ";", "\t")
_BLANK_LINE = re.compile(r"[\s,;]*")
_SEP_HINT = re.compile(r"sep=([,;\t|])\s*", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Row:
    number: int
    cells: list[str]


@dataclass(frozen=True, slots=True)
class BadRow:
    """A record the csv module itself refused (e.g. a field over its size limit)."""

    number: int
    error: str


@dataclass(frozen=True, slots=True)
class Table:
    header: list[str] | None
    """``None`` when the file holds nothing but blank lines."""
    delimiter: str
    rows: Iterator[Row | BadRow]


def sniff_delimiter(line: str) -> str:
    """The most frequent of ``, ; TAB`` in the header line; comma on ties or none."""
    counts = [line.count(d) for d in DELIMITERS]
    return DELIMITERS[counts.index(max(counts))] if max(counts) else ","


@contextmanager
def open_table(path: Path, encoding: str, errors: str = "strict") -> Iterator[Table]:
    """Open ``path`` as a :class:`Table`; raises ``FileLevelError`` for an unreadable header.

    An Excel ``sep=;`` first line names the delimiter and is not the header.
    """
    with path.open(encoding=encoding, errors=errors, newline="") as text:
        lines: Iterator[str] = iter(text)
        first = _first_content_line(lines)
        hint = _SEP_HINT.fullmatch(first or "")
        if hint:
            first = _first_content_line(lines)
        if first is None:
            yield Table(header=None, delimiter=",", rows=iter(()))
            return
        delimiter = hint.group(1) if hint else sniff_delimiter(first)
        reader = csv.reader(itertools.chain([first], lines), delimiter=delimiter)
        try:
            header = next(reader)
        except csv.Error as exc:
            raise FileLevelError(
                "malformed_header", f"{path.name}: header cannot be read ({exc})") from exc
        yield Table(header=header, delimiter=delimiter, rows=_numbered(reader))


def _first_content_line(lines: Iterator[str]) -> str | None:
    return next((line for line in lines if not _BLANK_LINE.fullmatch(line)), None)


def is_blank(cells: Iterable[str]) -> bool:
    return all(not cell.strip() for cell in cells)


def _numbered(reader: Iterator[list[str]]) -> Iterator[Row | BadRow]:
    number = 0
    last_error_line = -1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            line: int = getattr(reader, "line_num", 0)
            if line == last_error_line:  # no progress: never loop on one error
                return
            last_error_line = line
            number += 1
            yield BadRow(number, str(exc))
            continue
        if is_blank(cells):
            continue
        number += 1
        yield Row(number, cells)
