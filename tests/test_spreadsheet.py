"""Cells of the CSVs a person opens: formulas neutralised (OWASP), data left alone; and
every writer uses the one helper."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from adapters.csv_drop import CsvDropAdapter
from connector.spreadsheet import safe_cell
from tests.adapters.support import MemoryState, run
from tests.support import CUSTOMER_HEADER, drop_file

FORMULAS = ["=1+1", "+HYPERLINK(\"http://evil\",\"x\")", "-2+3", "@SUM(A1:A2)",
            "=cmd|' /C calc'!A0", "\tleading tab", "\rleading cr"]


@pytest.mark.parametrize("value", FORMULAS)
def test_a_formula_is_neutralised(value: str) -> None:
    assert safe_cell(value) == "'" + value


@pytest.mark.parametrize("value", ["-12.50", "+3", "12", "+14155550123", "Ada", "",
                                   "a=b", "1,299.50", "-0.5e3"])
def test_data_is_left_as_it_is(value: str) -> None:
    assert safe_cell(value) == value


def test_the_errors_report_neutralises_formulas(tmp_path: Path) -> None:
    cells = FORMULAS[:-1]  # a bare carriage return in a cell is a line break to a reader
    drop_file(tmp_path, "customers_1.csv", CUSTOMER_HEADER, [
        [f"C{n}", "=1+1" if n == 0 else "not a phone", "", value, "", "", "", "", "",
         "001", ""] for n, value in enumerate(cells)])
    run(CsvDropAdapter(name="csv", drop_dir=tmp_path, stable_seconds=0,
                       clock=lambda: 2e9), MemoryState(),
        reject=lambda r: ("invalid_phone", "phone", "bad phone"))
    report = (tmp_path / "rejected" / "customers_1.csv.errors.csv").read_text("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(report)))
    assert [r["first_name"] for r in rows] == ["'" + v for v in cells]
    assert rows[0]["phone"] == "'=1+1"
