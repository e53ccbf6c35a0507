"""What the adapter yields for messy but real exports: located text, never interpreted."""

from __future__ import annotations

import codecs
import logging
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from adapters.records import CustomerRecord, OrderRecord, Origin, RefundRecord, UnreadableRecord
from tests.adapters.support import MemoryState, adapter, drop, records, run


def _read(tmp_path: Path, name: str, content: str | bytes, **kwargs: object) -> list[object]:
    drop(tmp_path, name, content)
    return list(records(run(adapter(tmp_path, **kwargs), MemoryState())))


def _customer(row: int, raw: dict[str, str], **fields: Any) -> CustomerRecord:
    origin = Origin(source="pos", stream="customers", locator=f"customers.csv row {row}",
                    file="customers.csv", row=row)
    return replace(CustomerRecord(origin=origin, customer_id=None, raw=raw), **fields)


@pytest.mark.parametrize("content", [
    b"customer_id,phone\n00123,4155552671\n",
    codecs.BOM_UTF8 + b"customer_id,phone\n00123,4155552671\n",
    b"customer_id,phone\r\n00123,4155552671\r\n",
    b"customer_id,phone\r00123,4155552671",
    codecs.BOM_UTF8 + b"\r\n\r\ncustomer_id,phone\r\n\r\n00123,4155552671\r\n,\r\n",
    b"customer_id;phone\n00123;4155552671\n",
    b"customer_id\tphone\n00123\t4155552671\n",
    "customer_id\tphone\r\n00123\t4155552671\r\n".encode("utf-16"),
])
def test_encodings_line_endings_delimiters(tmp_path: Path, content: bytes) -> None:
    assert _read(tmp_path, "customers.csv", content) == [_customer(
        1, {"customer_id": "00123", "phone": "4155552671"},
        customer_id="00123", phone="4155552671")]


def test_messy_customers_export(tmp_path: Path) -> None:
    content = (
        " Client ID , First Name ,Mobile,E-Mail, ZIP ,Loyalty Member,Accepts SMS,Notes\r\n"
        "00123, Renée ,4155552671.0,  a@b.co ,02134,Y,yes,\"likes \"\"edibles\"\",\r\n"
        "second line\"\r\n"
        "\r\n"
        "  ,  ,  , , , , ,\r\n"
        "00124,,,,,N\r\n"
    )
    assert _read(tmp_path, "customers.csv", content) == [
        _customer(
            1,
            {"Client ID": "00123", "First Name": " Renée ", "Mobile": "4155552671.0",
             "E-Mail": "  a@b.co ", "ZIP": "02134", "Loyalty Member": "Y",
             "Accepts SMS": "yes", "Notes": 'likes "edibles",\r\nsecond line'},
            customer_id="00123", first_name="Renée", phone="4155552671.0",
            email="a@b.co", sms_opt_in="yes"),
        _customer(
            2,
            {"Client ID": "00124", "First Name": "", "Mobile": "", "E-Mail": "", "ZIP": "",
             "Loyalty Member": "N"},
            customer_id="00124"),
    ]


def test_orders_values_pass_through_verbatim(tmp_path: Path) -> None:
    content = (
        "Order Number,Customer,Phone,Store,Completed At,Order Total,Items,Status,Cashier\n"
        'T-0001,00042,4155552671.0,007,2026-11-01 10:00,"$1,299.50",'
        '"SKU-1:2;SKU-2:1", completed ,Ann\n'
        "T-0002,00043\n"
    )
    orders = _read(tmp_path, "orders_2026-11-01.csv", content)
    assert [(o.order_id, o.customer_id, o.phone, o.store_id, o.completed_at, o.total,
             o.items, o.status) for o in orders if isinstance(o, OrderRecord)] == [
        ("T-0001", "00042", "4155552671.0", "007", "2026-11-01 10:00", "$1,299.50",
         "SKU-1:2;SKU-2:1", "completed"),
        ("T-0002", "00043", None, None, None, None, None, None),
    ]


def test_unquoted_comma_is_a_malformed_row_never_shifted(tmp_path: Path) -> None:
    content = (
        "order_id,customer_id,phone,store_id,completed_at,total,items,status\n"
        "1,c1,,s1,2026-11-01,10.00,A:1,completed,,\n"  # trailing empty cells are fine
        "\n"
        "2,c2,,s1,2026-11-01,$1,299.50,A:1,completed\n"
        "3,c3,,s1,2026-11-01,5.00,A:1,completed\n"
    )
    found = _read(tmp_path, "orders_x.csv", content)
    assert [type(r).__name__ for r in found] == ["OrderRecord", "UnreadableRecord",
                                                "OrderRecord"]
    bad = found[1]
    assert isinstance(bad, UnreadableRecord)
    assert bad.reason == "malformed_row"
    assert bad.message == (
        "row 2 of orders_x.csv has 9 fields but the header has 8 (an unquoted comma?)")
    assert bad.origin == Origin(source="pos", stream="orders", locator="orders_x.csv row 2",
                                file="orders_x.csv", row=2)
    assert bad.raw["total"] == "$1" and bad.raw["column_9"] == "completed"
    assert isinstance(found[2], OrderRecord) and found[2].origin.row == 3


def test_refunds(tmp_path: Path) -> None:
    content = "Refund ID,Order,Date,Amount\nR1,T-0001,2026-11-02,\"$1,299.50\"\n"
    [refund] = _read(tmp_path, "refunds.csv", content)
    assert refund == RefundRecord(
        origin=Origin(source="pos", stream="refunds", locator="refunds.csv row 1",
                      file="refunds.csv", row=1),
        refund_id="R1", order_id="T-0001", refunded_at="2026-11-02", amount="$1,299.50",
        raw={"Refund ID": "R1", "Order": "T-0001", "Date": "2026-11-02",
             "Amount": "$1,299.50"})


def test_cp1252_fallback_is_logged(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    content = "phone,first_name\n4155552671,Renée\n".encode("cp1252")
    with caplog.at_level(logging.WARNING, logger="adapters.csv_drop"):
        [customer] = _read(tmp_path, "customers.csv", content)
    assert isinstance(customer, CustomerRecord) and customer.first_name == "Renée"
    assert "customers.csv is not valid UTF-8; reading it as Windows-1252" in caplog.messages


def test_configured_alias_wins_over_builtin(tmp_path: Path) -> None:
    content = "Cell #,Store,Mobile\n4155552671,00042,x\n"
    [customer] = _read(tmp_path, "customers.csv", content,
                       column_aliases={"phone": ["Cell #"], "customer_id": ["Store"],
                                       "opt_in_source": ["mobile"]})
    assert isinstance(customer, CustomerRecord)
    assert (customer.phone, customer.customer_id, customer.store_id,
            customer.opt_in_source) == ("4155552671", "00042", None, "x")


def test_loyalty_column_is_not_consent(tmp_path: Path) -> None:
    content = "phone,loyalty_member,is_loyalty\n4155552671,Y,true\n"
    [customer] = _read(tmp_path, "customers.csv", content)
    assert isinstance(customer, CustomerRecord)
    assert customer.sms_opt_in is None and customer.email_opt_in is None
    assert customer.raw == {"phone": "4155552671", "loyalty_member": "Y", "is_loyalty": "true"}
