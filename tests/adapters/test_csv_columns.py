from __future__ import annotations

import pytest

from adapters.csv_drop.columns import (
    LAYOUTS,
    StreamKind,
    alias_tables,
    normalize,
    resolve,
    unique_keys,
)
from adapters.csv_drop.errors import FileLevelError


@pytest.mark.parametrize(("header", "expected"), [
    ("phone", "phone"),
    ("  Phone  ", "phone"),
    ("CUSTOMER ID", "customer_id"),
    ("E-Mail", "e_mail"),
    ("first  -  name", "first_name"),
    ("Phone.Number", "phone_number"),
    ("Order No.", "order_no"),
    ("Cell #", "cell_#"),
    ("\ufeffcustomer_id", "customer_id"),
])
def test_normalize(header: str, expected: str) -> None:
    assert normalize(header) == expected


@pytest.mark.parametrize(("kind", "header", "canonical"), [
    ("customers", "Mobile", "phone"),
    ("customers", "Cell Phone", "phone"),
    ("customers", "Phone Number", "phone"),
    ("customers", "E-Mail", "email"),
    ("customers", "Email Address", "email"),
    ("customers", "FirstName", "first_name"),
    ("customers", "Surname", "last_name"),
    ("customers", "Client ID", "customer_id"),
    ("customers", "Location", "store_id"),
    ("customers", "Last Modified", "updated_at"),
    ("customers", "Consent At", "opt_in_at"),
    ("customers", "Consent Source", "opt_in_source"),
    ("customers", "Accepts SMS", "sms_opt_in"),
    ("customers", "SMS Consent", "sms_opt_in"),
    ("orders", "Order Number", "order_id"),
    ("orders", "Ticket ID", "order_id"),
    ("orders", "Transaction-ID", "order_id"),
    ("orders", "Amount", "total"),
    ("orders", "Grand Total", "total"),
    ("orders", "Mobile Phone", "phone"),
    ("refunds", "Amount", "amount"),
    ("refunds", "Date", "refunded_at"),
    ("refunds", "Created At", "refunded_at"),
    ("refunds", "Order", "order_id"),
])
def test_builtin_aliases(kind: StreamKind, header: str, canonical: str) -> None:
    assert alias_tables()[kind][normalize(header)] == canonical


@pytest.mark.parametrize(("kind", "header"), [
    ("customers", "date"),  # refunds only
    ("customers", "amount"),
    ("refunds", "transaction_id"),  # could be the refund's own id
    ("refunds", "grand_total"),
    ("customers", "loyalty_member"),
    ("customers", "is_loyalty"),
    ("orders", "loyalty_member"),
])
def test_not_mapped(kind: StreamKind, header: str) -> None:
    assert normalize(header) not in alias_tables()[kind]


def test_every_canonical_name_maps_to_itself() -> None:
    tables = alias_tables()
    for kind, layout in LAYOUTS.items():
        for name in layout:
            assert tables[kind][name] == name


def test_configured_aliases_are_normalized_and_win() -> None:
    tables = alias_tables({"phone": ["Cell #"], "customer_id": ["Store"], "total": "Net $"})
    assert tables["customers"]["cell_#"] == "phone"
    assert tables["orders"]["cell_#"] == "phone"
    assert tables["customers"]["store"] == "customer_id"  # built-in: store -> store_id
    assert tables["orders"]["net_$"] == "total"  # a bare string is one alias
    assert "net_$" not in tables["refunds"]


@pytest.mark.parametrize(("config", "message"), [
    ({"phoen": ["Cell"]}, "unknown field 'phoen'"),
    ({"phone": ["Tel"], "email": ["tel"]}, "configured for both"),
    ({"sms_opt_in": ["Loyalty Member"]}, "loyalty membership is not consent"),
    ({"email_opt_in": ["is_loyalty"]}, "loyalty membership is not consent"),
])
def test_bad_configuration(config: dict[str, list[str]], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        alias_tables(config)


def _resolve(kind: StreamKind, header: list[str]) -> dict[str, int]:
    return dict(resolve(kind, header, alias_tables()[kind], "f.csv").fields)


def test_resolve_positions_and_extra_columns() -> None:
    fields = _resolve("customers", [" Notes ", "PHONE", "Loyalty Member", "E-mail"])
    assert fields == {"phone": 1, "email": 3}


@pytest.mark.parametrize(("kind", "header", "reason", "field", "message"), [
    ("customers", ["customer_id", "email"], "missing_column", "phone",
     "f.csv has no 'phone' column"),
    ("orders", ["order_id", "phone"], "missing_column", "total",
     "f.csv has no 'total' column"),
    ("orders", ["order_id", "total", "store"], "missing_column", "customer_id",
     "f.csv has no 'customer_id' or 'phone' column"),
    ("refunds", ["refund_id", "order_id"], "missing_column", "amount",
     "f.csv has no 'amount' column"),
    ("customers", ["Phone", "Mobile"], "duplicate_column", "phone",
     "f.csv: columns 'Phone' and 'Mobile' both map to 'phone'"),
    ("customers", ["phone", " PHONE "], "duplicate_column", "phone",
     "f.csv: columns 'phone' and 'PHONE' both map to 'phone'"),
])
def test_resolve_errors(kind: StreamKind, header: list[str], reason: str, field: str,
                        message: str) -> None:
    with pytest.raises(FileLevelError) as caught:
        _resolve(kind, header)
    # a missing column's message goes on with the headers found and how to map one
    said = caught.value.message.split(" (headers found: ")[0]
    assert (caught.value.reason, caught.value.field, said) == (reason, field, message)


@pytest.mark.parametrize(("kind", "header"), [
    ("orders", ["order_id", "total", "customer_id"]),
    ("orders", ["order_id", "total", "phone"]),
    ("refunds", ["refund_id", "order_id", "amount"]),
    ("customers", ["phone"]),
])
def test_required_columns_satisfied(kind: StreamKind, header: list[str]) -> None:
    _resolve(kind, header)


def test_unique_keys() -> None:
    assert unique_keys(["Notes", "", "Notes", "Notes"]) == (
        "Notes", "column_2", "Notes (2)", "Notes (3)")
