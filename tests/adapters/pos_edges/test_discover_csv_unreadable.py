"""F10: discover on a CSV drop: a file it cannot read (not UTF-8/CP1252, no store column,
missing required columns) is skipped without a word and still listed among the files
"looked at", so "store ids seen in the 2 newest files: a.csv, b.csv" hides that b.csv's
stores were never counted."""
from __future__ import annotations

import os
import time
from pathlib import Path

from adapters.csv_drop import CsvDropAdapter


def test_a_file_discover_could_not_read_is_named(tmp_path: Path) -> None:
    (tmp_path / "orders_a.csv").write_text(
        "order_id,phone,store_id,completed_at,total\n1,(415) 555-0101,001,2026-05-01,10\n")
    (tmp_path / "orders_b.csv").write_bytes(b"order_id,phone,store_id\n\x81\x8d\x8f\x90\x9d\n")
    old = time.time() - 600
    for f in tmp_path.iterdir():
        os.utime(f, (old, old))
    unread: list[str] = []
    counts, _files = CsvDropAdapter(name="csv", drop_dir=tmp_path).store_ids(unread=unread)
    assert counts == {"001": 1}
    assert [u.split(" ")[0] for u in unread] == ["orders_b.csv"], \
        "orders_b.csv is listed as looked at, but none of its rows were"
