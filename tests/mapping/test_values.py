from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from connector.errors import InvalidRecord
from connector.mapping.values import (
    clean,
    parse_bool,
    parse_items,
    parse_money_cents,
    parse_quantity,
    parse_timestamp,
)

# --- clean -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Jane", "Jane"),
        ("  Jane  ", "Jane"),
        ("0", "0"),
        ("NAN", "NAN"),
        ("none of it", "none of it"),
        (None, None),
        ("", None),
        ("  \t ", None),
        ("N/A", None),
        ("n/a", None),
        ("NA", None),
        ("null", None),
        ("NULL", None),
        ("None", None),
        (" - ", None),
    ],
    ids=["value", "stripped", "zero-is-a-value", "nan-is-a-value", "sentinel-word-inside",
         "none", "empty", "whitespace", "N/A", "n/a", "NA", "null", "NULL", "None", "dash"],
)
def test_clean(raw: str | None, expected: str | None) -> None:
    assert clean(raw) == expected


# --- parse_bool --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    ["true", "TRUE", "t", "1", "1.0", "y", "Yes", " yes ", "on", "x", "X", "checked",
     "opted_in", "Opted In", "opted-in", "subscribed"],
)
def test_parse_bool_true(raw: str) -> None:
    assert parse_bool(raw, field="sms_opt_in") is True


@pytest.mark.parametrize(
    "raw",
    ["false", "False", "f", "0", "0.0", "n", "NO", "off", "unchecked", "opted_out",
     "Opted Out", "unsubscribed"],
)
def test_parse_bool_false(raw: str) -> None:
    assert parse_bool(raw, field="sms_opt_in") is False


@pytest.mark.parametrize("raw", [None, "", "  ", "N/A", "null"], ids=repr)
def test_parse_bool_absent_is_none(raw: str | None) -> None:
    assert parse_bool(raw, field="sms_opt_in") is None


@pytest.mark.parametrize("raw", ["maybe", "2", "yess", "-1", "0.5", "true false", "✓"])
def test_parse_bool_rejects_anything_else(raw: str) -> None:
    with pytest.raises(InvalidRecord) as caught:
        parse_bool(raw, field="sms_opt_in")
    assert caught.value.reason == "invalid_boolean"
    assert caught.value.field == "sms_opt_in"
    assert str(caught.value).startswith(f"sms_opt_in: {raw!r} is not a yes/no value (accepted: ")


# --- parse_money_cents -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "cents"),
    [
        ("$1,299.50", 129950),
        ("1299.5", 129950),
        (" 12 ", 1200),
        ("12", 1200),
        ("USD 12.00", 1200),
        ("12.00 USD", 1200),
        ("usd12", 1200),
        ("$ 12", 1200),
        ("1,299", 129900),
        ("1,234,567.89", 123456789),
        ("0.99", 99),
        (".5", 50),
        ("12.", 1200),
        ("0", 0),
        ("0.00", 0),
        ("-0.00", 0),
        ("19.990000000000002", 1999),
        ("19.989999999999998", 1999),
        ("10,000,000.00", 1_000_000_000),
    ],
    ids=["dollar-sign-and-thousands", "one-decimal", "spaces", "integer", "usd-prefix",
         "usd-suffix", "usd-lowercase-no-space", "dollar-space", "thousands-no-decimals",
         "two-thousands-groups", "cents-only", "leading-dot", "trailing-dot", "zero",
         "zero-cents", "negative-zero", "excel-float-noise-up", "excel-float-noise-down",
         "at-the-limit"],
)
def test_parse_money_cents(raw: str, cents: int) -> None:
    assert parse_money_cents(raw, field="total") == cents


@pytest.mark.parametrize(
    ("raw", "cents"),
    [("(12.00)", -1200), ("-12.00", -1200), ("-$12.00", -1200), ("$-12.00", -1200),
     ("($1,299.50)", -129950), ("USD -5", -500), ("- 5", -500)],
    ids=["parentheses", "minus", "minus-dollar", "dollar-minus", "parentheses-dollar",
         "usd-minus", "minus-space"],
)
def test_parse_money_cents_negative_when_allowed(raw: str, cents: int) -> None:
    assert parse_money_cents(raw, field="amount", allow_negative=True) == cents


@pytest.mark.parametrize("raw", ["(12.00)", "-12.00", "-0.01"])
def test_parse_money_cents_negative_rejected_by_default(raw: str) -> None:
    with pytest.raises(InvalidRecord) as caught:
        parse_money_cents(raw, field="total")
    assert caught.value.reason == "negative_amount"
    assert str(caught.value) == f"total: {raw!r} is negative"


@pytest.mark.parametrize("raw", [None, "", "   ", "N/A", "null"], ids=repr)
def test_parse_money_cents_missing(raw: str | None) -> None:
    with pytest.raises(InvalidRecord) as caught:
        parse_money_cents(raw, field="total")
    assert caught.value.reason == "missing_amount"
    assert caught.value.field == "total"


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ("1.299,50", "is not a dollar amount"),
        ("12,50", "comma that is not a thousands separator"),
        ("1,2345", "comma that is not a thousands separator"),
        ("12,", "comma that is not a thousands separator"),
        ("1.2.3", "is not a dollar amount"),
        ("12.34.56", "is not a dollar amount"),
        ("abc", "is not a dollar amount"),
        ("12abc", "is not a dollar amount"),
        ("1e3", "is not a dollar amount"),
        ("€12", "is not a dollar amount"),
        ("+12", "is not a dollar amount"),
        ("$", "is not a dollar amount"),
        ("(12.00", "unbalanced parenthesis"),
        ("12.00)", "unbalanced parenthesis"),
        ("(-12.00)", "more than one minus sign"),
        ("--12", "more than one minus sign"),
        ("1.005", "fractions of a cent"),
        ("19.999", "fractions of a cent"),
        ("10,000,000.01", "above the 10,000,000.00 limit"),
        ("99999999999999999999999999999999999", "above the 10,000,000.00 limit"),
        ("1" * 100, "too long"),
        ("١٢", "is not a dollar amount"),
    ],
    ids=["european-thousands", "european-decimal", "bad-group", "trailing-comma",
         "two-dots", "three-groups-of-dots", "letters", "trailing-letters", "exponent",
         "euro", "leading-plus", "dollar-only", "open-paren-only", "close-paren-only",
         "double-negative", "double-minus", "half-cent", "mills", "above-limit",
         "beyond-decimal-precision", "huge-string", "arabic-indic-digits"],
)
def test_parse_money_cents_invalid(raw: str, problem: str) -> None:
    with pytest.raises(InvalidRecord) as caught:
        parse_money_cents(raw, field="total", allow_negative=True)
    assert caught.value.reason == "invalid_amount"
    assert caught.value.field == "total"
    assert str(caught.value).startswith("total: ")
    assert problem in str(caught.value)


# --- parse_quantity ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "qty"),
    [("1", 1), ("2", 2), (" 2 ", 2), ("2.0", 2), ("2.00", 2), ("007", 7), ("10000", 10000)],
    ids=["one", "two", "spaces", "excel-.0", "excel-.00", "leading-zeros", "at-the-limit"],
)
def test_parse_quantity(raw: str, qty: int) -> None:
    assert parse_quantity(raw, field="qty") == qty


@pytest.mark.parametrize(
    "raw",
    [None, "", "0", "0.0", "-1", "2.5", "2.01", "two", "1e2", "10001", "9" * 50, "1,000"],
    ids=repr,
)
def test_parse_quantity_invalid(raw: str | None) -> None:
    with pytest.raises(InvalidRecord) as caught:
        parse_quantity(raw, field="qty")
    assert caught.value.reason == "invalid_quantity"
    assert caught.value.field == "qty"
    assert str(caught.value).startswith("qty: ")


# --- parse_items -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "items"),
    [
        ("cd-pre-1g-1:2", [{"sku": "cd-pre-1g-1", "qty": 2}]),
        ("cd-pre-1g-1:2;GUM_10mg:1",
         [{"sku": "cd-pre-1g-1", "qty": 2}, {"sku": "GUM_10mg", "qty": 1}]),
        (" cd-pre-1g-1 : 2 ; GUM_10mg:1 ",
         [{"sku": "cd-pre-1g-1", "qty": 2}, {"sku": "GUM_10mg", "qty": 1}]),
        ("a:1;", [{"sku": "a", "qty": 1}]),
        (";;a:1;;b:2;", [{"sku": "a", "qty": 1}, {"sku": "b", "qty": 2}]),
        ("Vape/Cart_0.5g-OG:3", [{"sku": "Vape/Cart_0.5g-OG", "qty": 3}]),
        ("a:b:2", [{"sku": "a:b", "qty": 2}]),
        ("a:1.0", [{"sku": "a", "qty": 1}]),
        ("a:1;a:1", [{"sku": "a", "qty": 1}, {"sku": "a", "qty": 1}]),
        (None, []),
        ("", []),
        ("  ", []),
        (";", []),
    ],
    ids=["one", "two", "whitespace", "trailing-semicolon", "empty-segments",
         "sku-punctuation-and-case", "colon-in-sku-splits-on-last", "excel-qty",
         "repeated-sku-kept", "none", "empty", "whitespace-only", "separator-only"],
)
def test_parse_items(raw: str | None, items: list[dict[str, object]]) -> None:
    assert parse_items(raw) == items


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("a:1;abc", "items: segment 2 'abc' is not sku:qty"),
        ("a:1;;abc", "items: segment 3 'abc' is not sku:qty"),
        (":2", "items: segment 1 ':2' is not sku:qty (empty sku)"),
        ("  :2", "items: segment 1 ':2' is not sku:qty (empty sku)"),
        ("a:", "items: segment 1 'a:' is not sku:qty (bad quantity)"),
        ("a:x", "items: segment 1 'a:x' is not sku:qty (bad quantity)"),
        ("a:0", "items: segment 1 'a:0' is not sku:qty (bad quantity)"),
        ("a:-1", "items: segment 1 'a:-1' is not sku:qty (bad quantity)"),
        ("a:2.5", "items: segment 1 'a:2.5' is not sku:qty (bad quantity)"),
        ("a,1", "items: segment 1 'a,1' is not sku:qty"),
        ("a\x00b:1", "items: segment 1 'a\\x00b:1' is not sku:qty (sku too long or has "
                     "control characters)"),
    ],
    ids=["no-colon", "segment-numbers-count-empty-ones", "empty-sku", "blank-sku",
         "empty-qty", "text-qty", "zero-qty", "negative-qty", "fractional-qty",
         "comma-instead-of-colon", "control-character"],
)
def test_parse_items_invalid(raw: str, message: str) -> None:
    with pytest.raises(InvalidRecord) as caught:
        parse_items(raw)
    assert caught.value.reason == "invalid_items"
    assert caught.value.field == "items"
    assert str(caught.value) == message


def test_parse_items_uses_the_given_field_name() -> None:
    with pytest.raises(InvalidRecord) as caught:
        parse_items("abc", field="line_items")
    assert str(caught.value).startswith("line_items: segment 1 ")
    assert caught.value.field == "line_items"


def test_parse_items_accepts_500_items() -> None:
    assert len(parse_items(";".join(f"sku-{n}:1" for n in range(500)))) == 500


def test_parse_items_rejects_more_than_500_items() -> None:
    with pytest.raises(InvalidRecord) as caught:
        parse_items(";".join(f"sku-{n}:1" for n in range(501)))
    assert caught.value.reason == "invalid_items"
    assert "more than 500" in str(caught.value)


def test_parse_items_rejects_absurdly_long_sku() -> None:
    with pytest.raises(InvalidRecord, match="sku too long"):
        parse_items("x" * 129 + ":1")


# --- parse_timestamp ---------------------------------------------------------------------

LA = "America/Los_Angeles"


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0,
        microsecond: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, microsecond, tzinfo=UTC)


@pytest.mark.parametrize(
    ("raw", "tz", "expected"),
    [
        ("2026-11-01T10:00:00Z", "UTC", utc(2026, 11, 1, 10)),
        ("2026-11-01t10:00:00z", "UTC", utc(2026, 11, 1, 10)),
        ("2026-11-01T10:00:00Z", LA, utc(2026, 11, 1, 10)),
        ("2026-11-01T10:00:00+02:00", LA, utc(2026, 11, 1, 8)),
        ("2026-11-01T10:00:00-0700", "UTC", utc(2026, 11, 1, 17)),
        ("2026-06-01T10:00:00", "UTC", utc(2026, 6, 1, 10)),
        ("2026-06-01T10:00:00", LA, utc(2026, 6, 1, 17)),
        ("2026-12-01T10:00:00", LA, utc(2026, 12, 1, 18)),
        ("2026-11-01T10:00:00.250Z", "UTC", utc(2026, 11, 1, 10, 0, 0, 250000)),
        ("2026-11-01T10:00:00.123456789Z", "UTC", utc(2026, 11, 1, 10, 0, 0, 123456)),
        ("2026-11-01 10:00:00", "UTC", utc(2026, 11, 1, 10)),
        ("2026-11-01 10:00", "UTC", utc(2026, 11, 1, 10)),
        ("2026-11-01", "UTC", utc(2026, 11, 1)),
        ("2026-11-01", LA, utc(2026, 11, 1, 7)),
        ("11/01/2026", LA, utc(2026, 11, 1, 7)),
        ("11/01/2026 14:05", "UTC", utc(2026, 11, 1, 14, 5)),
        ("11/01/2026 14:05:09", "UTC", utc(2026, 11, 1, 14, 5, 9)),
        ("11/01/2026 2:05 PM", "UTC", utc(2026, 11, 1, 14, 5)),
        ("11/01/2026 2:05pm", "UTC", utc(2026, 11, 1, 14, 5)),
        ("11/01/2026 12:05 AM", "UTC", utc(2026, 11, 1, 0, 5)),
        ("11/01/2026 12:05 PM", "UTC", utc(2026, 11, 1, 12, 5)),
        ("11/1/26", "UTC", utc(2026, 11, 1)),
        ("1/2/99", "UTC", utc(1999, 1, 2)),
        ("1793527200", LA, utc(2026, 11, 1, 10)),
        ("1793527200123", LA, utc(2026, 11, 1, 10, 0, 0, 123000)),
        ("  2026-11-01T10:00:00Z  ", "UTC", utc(2026, 11, 1, 10)),
        ("2099-01-01", "UTC", utc(2099, 1, 1)),
        ("1902-01-01", "UTC", utc(1902, 1, 1)),
    ],
    ids=["iso-z", "iso-lowercase", "iso-z-ignores-tz", "iso-offset", "iso-offset-no-colon",
         "iso-naive-utc", "iso-naive-local-summer", "iso-naive-local-winter",
         "fractional-ms", "fractional-ns-truncated", "space-instead-of-t",
         "space-no-seconds", "date-only-utc", "date-only-is-local-midnight", "us-date",
         "us-24h", "us-seconds", "us-pm", "us-pm-no-space", "us-midnight-am",
         "us-noon-pm", "us-two-digit-year", "us-two-digit-year-1900s", "epoch-seconds",
         "epoch-millis", "whitespace", "future-is-kept", "first-year-after-sentinels"],
)
def test_parse_timestamp(raw: str, tz: str, expected: datetime) -> None:
    parsed = parse_timestamp(raw, field="completed_at", tz=tz)
    assert parsed == expected
    assert parsed is not None
    assert parsed.utcoffset() == timedelta(0)


def test_parse_timestamp_ambiguous_local_time_reads_as_daylight_time() -> None:
    # 2026-11-01 01:30 happens twice in Los Angeles; the first one is PDT (UTC-7).
    assert parse_timestamp("2026-11-01 01:30", field="t", tz=LA) == utc(2026, 11, 1, 8, 30)


@pytest.mark.parametrize(
    "raw",
    [None, "", "  ", "N/A", "null", "1900-01-01", "0001-01-01", "0001-01-01T00:00:00Z",
     "0001-01-01T00:00:00+05:00", "01/01/1900", "1/1/1901", "1899-12-30 00:00:00",
     "9999-12-31", "9999-12-31T23:59:59"],
    ids=repr,
)
def test_parse_timestamp_no_date_is_none(raw: str | None) -> None:
    assert parse_timestamp(raw, field="opt_in_at", tz=LA) is None


@pytest.mark.parametrize(
    "raw",
    ["yesterday", "13/01/2026", "31/12/2026", "02/30/2026", "2026-02-30", "2026-13-01",
     "11/01/2026 14:05 PM", "11/01/2026 0:05 AM", "11/01/2026 25:00", "2026-11-01T24:00:00",
     "2026-W44-1", "20261101", "179352720", "17935272001", "1793527200.5", "11-01-2026",
     "Nov 1, 2026", "2026-11-01 10:00:00 PST"],
    ids=repr,
)
def test_parse_timestamp_invalid(raw: str) -> None:
    with pytest.raises(InvalidRecord) as caught:
        parse_timestamp(raw, field="completed_at")
    assert caught.value.reason == "invalid_timestamp"
    assert caught.value.field == "completed_at"
    assert str(caught.value).startswith(f"completed_at: {raw!r} is not a date/time")


def test_parse_timestamp_unknown_zone_is_a_configuration_error() -> None:
    with pytest.raises(ValueError, match="unknown time zone"):
        parse_timestamp("2026-11-01", field="t", tz="Mars/Olympus_Mons")
