from __future__ import annotations

import codecs
import csv
import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from adapters.csv_drop.errors import FileLevelError
from adapters.csv_drop.probe import CP1252, UTF8, UTF16, probe
from adapters.csv_drop.reader import BadRow, Row, open_table, sniff_delimiter


def _write(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "customers.csv"
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(("data", "encoding"), [
    (b"phone\n4155552671\n", UTF8),
    (codecs.BOM_UTF8 + b"phone\nRen\xc3\xa9e\n", UTF8),
    ("phone\nRenée\n".encode("cp1252"), CP1252),
    ("phone\tname\nRenée\n".encode("utf-16"), UTF16),
    (b"phone\n\x81\x9d\xff\n", None),  # neither UTF-8 nor cp1252
    (b"", UTF8),
])
def test_probe_encoding_and_hash(tmp_path: Path, data: bytes, encoding: str | None) -> None:
    found = probe(_write(tmp_path, data))
    assert found.encoding == encoding
    assert found.sha256 == hashlib.sha256(data).hexdigest()
    assert found.size == len(data)


def test_probe_utf8_split_across_chunks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                        ) -> None:
    monkeypatch.setattr("adapters.csv_drop.probe.CHUNK", 3)
    assert probe(_write(tmp_path, "ab\u00e9\u20ac\n".encode())).encoding == UTF8


@pytest.mark.parametrize(("line", "delimiter"), [
    ("phone,email,name\r\n", ","),
    ("phone;email;name\n", ";"),
    ("phone\temail\tname\n", "\t"),
    ("phone\n", ","),
    ("a;b,c;d\n", ";"),
    ("a,b;c,d\n", ","),
    ("a,b;c;d,e\n", ","),  # tie -> comma
])
def test_sniff_delimiter(line: str, delimiter: str) -> None:
    assert sniff_delimiter(line) == delimiter


def _rows(path: Path, encoding: str = UTF8) -> tuple[list[str] | None, list[Row | BadRow]]:
    with open_table(path, encoding) as table:
        return table.header, list(table.rows)


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_line_endings(tmp_path: Path, newline: str) -> None:
    text = newline.join(["id,note", '1,"two', 'lines"', "2,x", ""])
    header, rows = _rows(_write(tmp_path, text.encode()))
    assert header == ["id", "note"]
    assert rows == [Row(1, ["1", f"two{newline}lines"]), Row(2, ["2", "x"])]


def test_blank_lines_are_not_rows(tmp_path: Path) -> None:
    text = "\n  \n,,\nid,note\n\n1,a\n , ,\n\n\t\n2,b\n\n"
    header, rows = _rows(_write(tmp_path, text.encode()))
    assert header == ["id", "note"]
    assert rows == [Row(1, ["1", "a"]), Row(2, ["2", "b"])]


@pytest.mark.parametrize("text", ["", "\n\n", " , ,\r\n"])
def test_no_header(tmp_path: Path, text: str) -> None:
    assert _rows(_write(tmp_path, text.encode())) == (None, [])


def test_excel_sep_hint(tmp_path: Path) -> None:
    header, rows = _rows(_write(tmp_path, b"sep=;\r\nid;total\r\n1;1,5\r\n"))
    assert header == ["id", "total"]
    assert rows == [Row(1, ["1", "1,5"])]


@pytest.fixture
def small_field_limit() -> Iterator[None]:
    old = csv.field_size_limit(10)
    try:
        yield
    finally:
        csv.field_size_limit(old)


@pytest.mark.usefixtures("small_field_limit")
def test_csv_errors_become_bad_rows_and_reading_goes_on(tmp_path: Path) -> None:
    header, rows = _rows(_write(tmp_path, b"id,note\n1," + b"x" * 20 + b"\n2,b\n"))
    assert header == ["id", "note"]
    assert rows == [BadRow(1, "field larger than field limit (10)"), Row(2, ["2", "b"])]


@pytest.mark.usefixtures("small_field_limit")
def test_unreadable_header_is_a_file_level_error(tmp_path: Path) -> None:
    with pytest.raises(FileLevelError) as caught:
        _rows(_write(tmp_path, b"id," + b"x" * 20 + b"\n"))
    assert caught.value.reason == "malformed_header"
