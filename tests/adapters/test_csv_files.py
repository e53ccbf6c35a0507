from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from adapters.base import RecordedRejection
from adapters.csv_drop import files, report
from tests.adapters.support import NOW, drop, listing


@pytest.mark.parametrize(("name", "kind"), [
    ("customers.csv", "customers"),
    ("Customers_2026-11-01.CSV", "customers"),
    ("ORDERS-export.csv", "orders"),
    ("refunds.csv", "refunds"),
    ("stores.csv", "locations"),
    ("Locations_2026.csv", "locations"),
    ("store.csv", None),
    ("customer.csv", None),
    ("orders.csv.bak", None),
    ("orders.txt", None),
    ("my_orders.csv", None),
])
def test_kind_by_prefix(name: str, kind: str | None) -> None:
    assert files.kind_of(name) == kind


@pytest.mark.parametrize(("name", "ignored"), [
    (".orders.csv", True),
    ("~$orders.csv", True),
    ("orders.csv.tmp", True),
    ("orders.csv.part", True),
    ("orders.csv.PARTIAL", True),
    ("orders.csv.crdownload", True),
    ("orders.csv", False),
    ("readme.txt", False),
])
def test_ignored_names(name: str, ignored: bool) -> None:
    assert files.is_ignored(name) is ignored


def test_scan(tmp_path: Path) -> None:
    for name in ["refunds.csv", "Orders_b.csv", "orders_A.csv", "customers.csv",
                 "notes.txt", ".hidden.csv", "orders.csv.part", "~$customers.csv"]:
        drop(tmp_path, name, "x")
    drop(tmp_path, "orders_c.csv", "x", age=1)
    (tmp_path / "processed").mkdir()
    (tmp_path / "orders_dir.csv").mkdir()
    found = files.scan(tmp_path, NOW, stable_seconds=5)
    assert [(d.name, d.kind) for d in found.ready] == [
        ("customers.csv", "customers"), ("orders_A.csv", "orders"),
        ("Orders_b.csv", "orders"), ("refunds.csv", "refunds")]
    assert [d.name for d in found.waiting] == ["orders_c.csv"]
    assert found.unrecognized == ["notes.txt"]


def test_scan_zero_stable_seconds_takes_fresh_files(tmp_path: Path) -> None:
    drop(tmp_path, "orders.csv", "x", age=0)
    assert [d.name for d in files.scan(tmp_path, NOW, stable_seconds=0).ready] == [
        "orders.csv"]


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def test_destination(tmp_path: Path) -> None:
    sha = _sha("new")
    assert files.destination(tmp_path, "orders.csv", sha) == tmp_path / "orders.csv"
    drop(tmp_path, "orders.csv", "new")
    assert files.destination(tmp_path, "orders.csv", sha) == tmp_path / "orders.csv"
    other = _sha("other")
    assert files.destination(tmp_path, "orders.csv", other) == (
        tmp_path / f"orders.{other[:8]}.csv")
    drop(tmp_path, f"orders.{other[:8]}.csv", "not really other")
    assert files.destination(tmp_path, "orders.csv", other) == (
        tmp_path / f"orders.{other[:8]}-2.csv")


def test_move_is_idempotent(tmp_path: Path) -> None:
    source = drop(tmp_path, "orders.csv", "x")
    target = tmp_path / "processed" / "orders.csv"
    files.move(source, target)
    files.move(source, target)
    assert listing(tmp_path) == ["processed/orders.csv"]


def test_errors_report_is_atomic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "rejected" / "orders.csv.errors.csv"
    line = RecordedRejection(row=3, raw={"id": "7", "Note": "a,b"}, reason="invalid_phone",
                             field="phone", message="bad")
    report.write_errors(path, ["id", "Note"], ["id", "Note"], [line])
    before = path.read_bytes()
    assert before.decode("utf-8-sig") == (
        "id,Note,error_row,error_reason,error_field,error_message\r\n"
        '7,"a,b",3,invalid_phone,phone,bad\r\n')

    def crash(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="disk full"):
        report.write_errors(path, ["id"], ["id"], [])
    assert path.read_bytes() == before
    assert listing(tmp_path) == ["rejected/orders.csv.errors.csv"]  # no temp file left
