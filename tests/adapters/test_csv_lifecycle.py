"""Files through their life: pick-up, batches, checkpoints, finishing, crashes, rejects."""

from __future__ import annotations

import csv
import hashlib
import io
import logging
import time
import tracemalloc
from collections.abc import Generator
from pathlib import Path

import pytest

from adapters.base import Batch
from adapters.records import CustomerRecord, OrderRecord, SourceRecord, UnreadableRecord
from connector.errors import SourceUnreadable
from tests.adapters.support import (
    NOW,
    MemoryState,
    adapter,
    drop,
    listing,
    records,
    run,
    settle,
)

CUSTOMERS = "customer_id,phone\n" + "".join(f"{i:05d},41555500{i:02d}\n" for i in range(1, 8))


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _rows(batches: list[Batch]) -> list[int | None]:
    return [r.origin.row for r in records(batches)]


def test_batches_positions_and_finish(tmp_path: Path) -> None:
    drop(tmp_path, "customers.csv", CUSTOMERS)
    state = MemoryState()
    batches = run(adapter(tmp_path), state, batch_size=3)
    sha = _sha(CUSTOMERS)
    assert [(b.stream, len(b.records), b.position) for b in batches] == [
        (f"file:{sha}", n, {"file": "customers.csv", "sha256": sha, "row": row,
                            "done": False})
        for n, row in [(3, 3), (3, 6), (1, 7), (0, 7)]]
    assert [b.after_commit is None for b in batches] == [True, True, True, False]
    assert state.cursors == {f"file:{sha}": {"file": "customers.csv", "sha256": sha,
                                              "row": 7, "done": True}}
    assert listing(tmp_path) == ["processed/customers.csv"]  # no errors file: none rejected
    assert run(adapter(tmp_path), state) == []


def test_name_order_and_kind_by_prefix(tmp_path: Path) -> None:
    drop(tmp_path, "refunds.csv", "refund_id,order_id,amount\nR1,O1,1\n")
    drop(tmp_path, "orders.csv", "order_id,total,phone\nO1,1,p\n")
    drop(tmp_path, "customers_b.csv", "phone\nb\n")
    drop(tmp_path, "Customers_a.csv", "phone\na\n")
    found = records(run(adapter(tmp_path), MemoryState()))
    assert [(type(r).__name__, r.origin.file, r.origin.stream) for r in found] == [
        ("CustomerRecord", "Customers_a.csv", "customers"),
        ("CustomerRecord", "customers_b.csv", "customers"),
        ("OrderRecord", "orders.csv", "orders"),
        ("RefundRecord", "refunds.csv", "refunds"),
    ]
    assert listing(tmp_path) == ["processed/Customers_a.csv", "processed/customers_b.csv",
                                 "processed/orders.csv", "processed/refunds.csv"]


def test_unrecognized_and_ignored_files_stay(tmp_path: Path,
                                             caplog: pytest.LogCaptureFixture) -> None:
    names = ["notes.txt", "customer.csv", ".DS_Store", "~$orders.csv", "orders.csv.part",
             "customers.csv.crdownload"]
    for name in names:
        drop(tmp_path, name, "phone\n1\n")
    (tmp_path / "processed").mkdir()
    with caplog.at_level(logging.WARNING, logger="adapters.csv_drop"):
        assert run(adapter(tmp_path), MemoryState()) == []
    assert caplog.messages == ["unrecognized file customer.csv left in place",
                               "unrecognized file notes.txt left in place"]
    assert listing(tmp_path) == sorted(names)


def test_a_file_is_read_only_once_stable(tmp_path: Path) -> None:
    now = [NOW]
    drop(tmp_path, "customers.csv", "phone\n1\n", age=2)
    source = adapter(tmp_path, stable_seconds=5, clock=lambda: now[0])
    state = MemoryState()
    assert run(source, state) == []
    assert listing(tmp_path) == ["customers.csv"]
    now[0] += 3
    assert _rows(run(source, state)) == [1]
    assert listing(tmp_path) == ["processed/customers.csv"]


def test_atomic_writers_need_no_wait(tmp_path: Path) -> None:
    drop(tmp_path, "customers.csv", "phone\n1\n", age=0)
    assert _rows(run(adapter(tmp_path, stable_seconds=0), MemoryState())) == [1]


def test_resume_mid_file(tmp_path: Path) -> None:
    drop(tmp_path, "customers.csv", CUSTOMERS)
    state = MemoryState()
    reading = adapter(tmp_path).read(state, 2)
    settled: list[SourceRecord] = []
    for _ in range(2):
        batch = next(reading)
        settle(state, batch)
        settled += batch.records
    unsettled = next(reading)  # pulled, then the process dies before settling it
    assert isinstance(reading, Generator)
    reading.close()
    assert [r.origin.row for r in unsettled.records] == [5, 6]
    assert listing(tmp_path) == ["customers.csv"]

    again = run(adapter(tmp_path), state, batch_size=2)
    assert _rows(again) == [5, 6, 7]
    assert [r.origin.row for r in settled] + _rows(again) == list(range(1, 8))
    assert listing(tmp_path) == ["processed/customers.csv"]


class Crash(Exception):
    pass


@pytest.mark.parametrize("step", ["before_finish", "write_errors", "put_done", "move"])
def test_crash_between_finishing_steps_is_repaired(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, step: str) -> None:
    drop(tmp_path, "customers.csv", CUSTOMERS)
    state = MemoryState()

    def reject_row_2(record: SourceRecord) -> tuple[str, str | None, str] | None:
        return ("invalid_phone", "phone", "bad") if record.origin.row == 2 else None

    def crash(*args: object) -> None:
        raise Crash(step)

    with monkeypatch.context() as patch:
        if step == "write_errors":
            patch.setattr("adapters.csv_drop.report.write_errors", crash)
        elif step == "put_done":
            real_put = state.put_cursor
            patch.setattr(state, "put_cursor", lambda stream, position: (
                crash() if position["done"] else real_put(stream, position)))
        elif step == "move":
            patch.setattr("adapters.csv_drop.files.move", crash)
        batches = list(adapter(tmp_path).read(state, 100))
        for batch in batches[:-1]:
            settle(state, batch, reject_row_2)
        state.put_cursor(batches[-1].stream, batches[-1].position)
        if step != "before_finish":
            assert batches[-1].after_commit is not None
            with pytest.raises(Crash):
                batches[-1].after_commit()

    again = run(adapter(tmp_path), state)
    assert [len(b.records) for b in again] == [0]
    assert listing(tmp_path) == ["processed/customers.csv",
                                 "rejected/customers.csv.errors.csv"]
    [cursor] = state.cursors.values()
    assert cursor["done"] is True and cursor["row"] == 7
    errors = (tmp_path / "rejected/customers.csv.errors.csv").read_text("utf-8-sig")
    assert errors.splitlines()[1:] == ["00002,4155550002,2,invalid_phone,phone,bad"]


def test_redropped_identical_file_is_moved_without_records(tmp_path: Path) -> None:
    state = MemoryState()
    drop(tmp_path, "customers.csv", CUSTOMERS)
    run(adapter(tmp_path), state)
    cursors = dict(state.cursors)
    drop(tmp_path, "customers_again.csv", CUSTOMERS)
    again = run(adapter(tmp_path), state)
    assert [len(b.records) for b in again] == [0]
    assert state.cursors == cursors
    assert listing(tmp_path) == ["processed/customers.csv", "processed/customers_again.csv"]


def test_two_identical_files_in_one_run(tmp_path: Path) -> None:
    drop(tmp_path, "customers_1.csv", CUSTOMERS)
    drop(tmp_path, "customers_2.csv", CUSTOMERS)
    assert len(_rows(run(adapter(tmp_path), MemoryState()))) == 7
    assert listing(tmp_path) == ["processed/customers_1.csv", "processed/customers_2.csv"]


def test_processed_name_collision(tmp_path: Path) -> None:
    state = MemoryState()
    monday = "order_id,total,phone\nO1,1,p\nO2,x,p\n"
    tuesday = "order_id,total,phone\nO3,1,p\nO4,x,p\n"

    def reject_x(record: SourceRecord) -> tuple[str, str | None, str] | None:
        bad = isinstance(record, OrderRecord) and record.total == "x"
        return ("invalid_total", "total", "not an amount") if bad else None

    drop(tmp_path, "orders.csv", monday)
    run(adapter(tmp_path), state, reject=reject_x)
    drop(tmp_path, "orders.csv", tuesday)
    run(adapter(tmp_path), state, reject=reject_x)
    sha8 = _sha(tuesday)[:8]
    assert listing(tmp_path) == sorted([
        "processed/orders.csv", f"processed/orders.{sha8}.csv",
        "rejected/orders.csv.errors.csv", f"rejected/orders.{sha8}.csv.errors.csv"])
    assert (tmp_path / "processed/orders.csv").read_text() == monday
    assert (tmp_path / f"processed/orders.{sha8}.csv").read_text() == tuesday
    report = (tmp_path / f"rejected/orders.{sha8}.csv.errors.csv").read_text("utf-8-sig")
    assert "O4,x,p,2,invalid_total" in report


def test_errors_file_content(tmp_path: Path) -> None:
    content = (
        "Order ID, Total ,Phone,Notes\r\n"
        "O1,$5,bad,\"a, \"\"b\"\"\"\r\n"
        "O2,$5,4155552671,\r\n"
        "O3,$1,299.50,4155552671,oops\r\n"
        "O4,$5,bad\r\n"
    )
    drop(tmp_path, "orders.csv", content)

    def reject_bad_phone(record: SourceRecord) -> tuple[str, str | None, str] | None:
        if isinstance(record, OrderRecord) and record.phone == "bad":
            return ("invalid_phone", "phone", f"{record.origin.locator}: phone 'bad'")
        return None

    run(adapter(tmp_path), MemoryState(), batch_size=1, reject=reject_bad_phone)
    report = (tmp_path / "rejected/orders.csv.errors.csv").read_bytes()
    assert report.startswith(b"\xef\xbb\xbf")
    assert report.decode("utf-8-sig").split("\r\n") == [
        "Order ID,Total,Phone,Notes,error_row,error_reason,error_field,error_message",
        'O1,$5,bad,"a, ""b""",1,invalid_phone,phone,orders.csv row 1: phone \'bad\'',
        "O3,$1,299.50,4155552671,3,malformed_row,,row 3 of orders.csv has 5 fields but "
        "the header has 4 (an unquoted comma?)",
        "O4,$5,bad,,4,invalid_phone,phone,orders.csv row 4: phone 'bad'",
        "",
    ]
    assert listing(tmp_path) == ["processed/orders.csv", "rejected/orders.csv.errors.csv"]


BAD_FILES = [
    ("customers_1.csv", b"customer_id,email\n1,a@b.co\n", "missing_column", "phone",
     "customers_1.csv has no 'phone' column", "customer_id,email,"),
    ("customers_1.csv", b"Phone,Mobile\n1,2\n", "duplicate_column", "phone",
     "customers_1.csv: columns 'Phone' and 'Mobile' both map to 'phone'", "Phone,Mobile,"),
    ("orders_1.csv", b"order_id,total\n1,2\n", "missing_column", "customer_id",
     "orders_1.csv has no 'customer_id' or 'phone' column", "order_id,total,"),
    ("refunds_1.csv", b"\r\n\r\n", "empty_file", "",
     "refunds_1.csv is empty (no header row)", ""),
    ("refunds_1.csv", b"", "empty_file", "", "refunds_1.csv is empty (no header row)", ""),
    ("customers_1.csv", b"phone\n\x81\x9d\xff\n", "undecodable", "",
     "customers_1.csv is neither UTF-8 nor Windows-1252 text", ""),
]


@pytest.mark.parametrize(("name", "content", "reason", "field", "message", "header"),
                         BAD_FILES)
def test_file_level_errors(tmp_path: Path, caplog: pytest.LogCaptureFixture, name: str,
                           content: bytes, reason: str, field: str, message: str,
                           header: str) -> None:
    drop(tmp_path, name, content)
    drop(tmp_path, "refunds_2.csv", "refund_id,order_id,amount\nR1,O1,1\n")
    state = MemoryState()
    with caplog.at_level(logging.ERROR, logger="adapters.csv_drop"):
        batches = run(adapter(tmp_path), state)
    rejected, *rest = batches
    [record] = rejected.records
    assert isinstance(record, UnreadableRecord)
    said = record.message.split(" (headers found: ")[0]  # then the headers and a hint
    assert (record.reason, said, record.origin.file, record.origin.row,
            record.origin.stream) == (reason, message, name, 0, name.split("_", 1)[0])
    message = record.message
    assert caplog.messages == [f"{name} rejected: {message}"]
    assert state.cursors[rejected.stream] == {"file": name, "sha256": rejected.position[
        "sha256"], "row": 0, "done": True, "rejected": reason}
    report = (tmp_path / f"rejected/{name}.errors.csv").read_text("utf-8-sig")
    assert list(csv.reader(io.StringIO(report))) == [
        [*header.split(",")[:-1], "error_row", "error_reason", "error_field",
         "error_message"],
        [*[""] * header.count(","), "0", reason, field, message]]
    assert (tmp_path / "rejected" / name).read_bytes() == content
    assert _rows(rest) == [1]  # the next file is still read
    assert listing(tmp_path) == ["processed/refunds_2.csv", f"rejected/{name}",
                                 f"rejected/{name}.errors.csv"]


def test_header_only_file_is_fine(tmp_path: Path) -> None:
    drop(tmp_path, "customers.csv", "phone,email\r\n")
    assert [len(b.records) for b in run(adapter(tmp_path), MemoryState())] == [0]
    assert listing(tmp_path) == ["processed/customers.csv"]


def test_rejected_file_redropped_after_config_fix(tmp_path: Path) -> None:
    content = "Cell #,email\n4155552671,a@b.co\n"
    state = MemoryState()
    drop(tmp_path, "customers.csv", content)
    run(adapter(tmp_path), state)
    assert listing(tmp_path) == ["rejected/customers.csv", "rejected/customers.csv.errors.csv"]

    drop(tmp_path, "customers.csv", content)  # dropped again, config unchanged
    again = run(adapter(tmp_path), state)
    assert [r.reason for r in records(again) if isinstance(r, UnreadableRecord)] == [
        "missing_column"]
    assert listing(tmp_path) == ["rejected/customers.csv", "rejected/customers.csv.errors.csv"]

    (tmp_path / "rejected/customers.csv").rename(tmp_path / "customers.csv")
    fixed = run(adapter(tmp_path, column_aliases={"phone": ["cell #"]}), state)
    [customer] = records(fixed)
    assert isinstance(customer, CustomerRecord) and customer.phone == "4155552671"
    [cursor] = state.cursors.values()
    assert cursor["done"] is True and "rejected" not in cursor
    assert "processed/customers.csv" in listing(tmp_path)


def test_missing_drop_folder(tmp_path: Path) -> None:
    with pytest.raises(SourceUnreadable, match=r"drop folder .* does not exist .*local problem"):
        run(adapter(tmp_path / "nope"), MemoryState())


def test_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="stable_seconds"):
        adapter(tmp_path, stable_seconds=-1)
    with pytest.raises(ValueError, match="unknown field 'phoen'"):
        adapter(tmp_path, column_aliases={"phoen": ["cell"]})
    with pytest.raises(ValueError, match="batch_size"):
        run(adapter(tmp_path), MemoryState(), batch_size=0)


def test_large_file_streams(tmp_path: Path) -> None:
    rows = 50_000
    path = tmp_path / "orders_big.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        f.write("order_id,customer_id,total,items,notes\r\n")
        for i in range(1, rows + 1):
            f.write(f'{i:07d},c{i},"$1,{i % 1000:03d}.50",A:1;B:2,{"x" * 40}\r\n')
    size = path.stat().st_size
    state = MemoryState()
    count, last_row, sizes = 0, 0, []
    started = time.perf_counter()
    tracemalloc.start()
    try:
        for batch in adapter(tmp_path).read(state, 500):
            sizes.append(len(batch.records))
            for record in batch.records:
                count += 1
                assert record.origin.row == last_row + 1
                last_row += 1
            settle(state, batch)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == rows
    assert sizes == [500] * 100 + [0]
    assert peak < size / 3, (peak, size)  # never the whole file (nor all its records)
    assert time.perf_counter() - started < 30
    assert listing(tmp_path) == ["processed/orders_big.csv"]
