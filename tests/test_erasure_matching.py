"""Finding an erased customer's values by salted digest: in cells, stored documents and
CSV files kept on disk (connector/erasure.py, adapters/csv_drop/scrub.py)."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from pathlib import Path

from adapters.csv_drop.columns import alias_tables
from adapters.csv_drop.scrub import scrub_folders
from connector.erasure import ErasureMatcher
from state.erasures import EMAIL, KEY, PHONE, Digests

SALT = b"pepper"


def digest(kind: str, value: str) -> str:
    return hmac.new(SALT, f"{kind}\x1f{value}".encode(), hashlib.sha256).hexdigest()


ERASED = Digests(keys=frozenset({digest(KEY, "pos:c7")}),
                 phones=frozenset({digest(PHONE, "+15105550142")}),
                 emails=frozenset({digest(EMAIL, "bob@example.com")}))
MATCH = ErasureMatcher(digest, "US")


def test_a_phone_in_any_written_form_and_an_email_in_any_case_match() -> None:
    for cell in ("+15105550142", "(510) 555-0142", " 510.555.0142 ", "1-510-555-0142",
                 "BOB@Example.com", "bob@example.com "):
        assert MATCH.value(cell, ERASED), cell
    for cell in ("(510) 555-0143", "bob2@example.com", "5105550142 ext", "", "42.00",
                 "2026-11-01", "Bob"):
        assert not MATCH.value(cell, ERASED), cell


def test_a_row_matches_by_its_customer_id_column_only_there() -> None:
    assert MATCH.row(["c7", "", "x"], ERASED, id_column=0, space="pos")
    assert not MATCH.row(["o1", "c7"], ERASED, id_column=0, space="pos")  # c7 elsewhere
    assert not MATCH.row(["c7"], ERASED, id_column=0, space="shop")  # another id space


def test_stored_documents_match_on_nested_values_and_record_customer_ids() -> None:
    assert MATCH.document({"cells": {"Phone": "(510) 555-0142"}}, ERASED)
    assert MATCH.document({"origin": {"source": "pos"}, "customer_id": "c7",
                           "phone": None}, ERASED)
    assert not MATCH.document({"origin": {"source": "pos"}, "customer_id": "c8",
                               "items": [{"sku": "a"}]}, ERASED)


def test_kept_files_lose_only_the_erased_rows_in_their_own_encoding(tmp_path: Path) -> None:
    processed, rejected = tmp_path / "processed", tmp_path / "rejected"
    processed.mkdir()
    rejected.mkdir()
    (processed / "customers_1.csv").write_bytes(
        "customer_id;phone;first_name\nc1;415 555 0100;Zoë\nc7;;Bob\nc9;(510) 555-0142;B\n"
        .encode("cp1252"))
    stray = b"customer_id,phone,first_name\nc2,415 555 0101,Jos\xc3\xa9\nc3,415 555 0102,A\xff\n"
    (processed / "customers_2.csv").write_bytes(stray)
    (rejected / "orders_1.errors.csv").write_text(
        "row,reason,order_id,customer_id,email\n2,invalid_total,o1,c1,bob@example.com\n",
        encoding="utf-8")
    (rejected / "customers_3.csv").write_bytes(b"a,b\n\x81\x8d,\x90\x9d\n")  # no text

    def erased_row(cells: Sequence[str], id_column: int | None) -> bool:
        return MATCH.row(cells, ERASED, id_column=id_column, space="pos")

    report = scrub_folders((processed, rejected), erased_row, alias_tables())
    assert sorted(report.files) == ["processed/customers_1.csv", "rejected/orders_1.errors.csv"]
    assert report.rows == 3
    assert (processed / "customers_1.csv").read_bytes() == (
        "customer_id;phone;first_name\r\nc1;415 555 0100;Zoë\r\n".encode("cp1252"))
    assert (processed / "customers_2.csv").read_bytes() == stray  # nothing of theirs: as is
    assert "bob" not in (rejected / "orders_1.errors.csv").read_text("utf-8")
    assert report.unreadable == ["rejected/customers_3.csv"]  # said, never guessed at
