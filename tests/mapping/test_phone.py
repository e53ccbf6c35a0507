from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest

from connector.errors import InvalidRecord
from connector.mapping.phone import normalize_phone

VECTORS = Path(__file__).parent.parent / "fixtures" / "phone_normalization_vectors.csv"

with VECTORS.open(newline="", encoding="utf-8") as handle:
    VECTOR_ROWS = list(csv.DictReader(handle))

# Our outcome for every input of the libphonenumber vectors file: an E.164 string, or the
# reason code of the rejection. Rows marked "ours:" deliberately differ from what
# libphonenumber alone says.
OUR_OUTCOME = {
    "(415) 555-2671": "+14155552671",
    "415-555-2671": "+14155552671",
    "415.555.2671": "+14155552671",
    "4155552671": "+14155552671",
    "14155552671": "+14155552671",
    "1 (415) 555-2671": "+14155552671",
    "+1 415 555 2671": "+14155552671",
    "+1-415-555-2671 x123": "+14155552671",
    "415.555.2671 ext. 45": "+14155552671",
    "+14155552671;ext=9": "+14155552671",
    "415-CALL-NOW": "+14152255669",
    "4155552671.0": "+14155552671",  # ours: Excel's ".0" is stripped
    "415555267": "invalid_phone",
    "41555526711": "invalid_phone",
    "(555) 123-4567": "invalid_phone",
    "123-456-7890": "fake_phone",  # ours: a digit run (libphonenumber: invalid)
    "000-000-0000": "fake_phone",  # ours: one repeated digit (libphonenumber: invalid)
    "888-888-8888": "fake_phone",  # ours: libphonenumber says valid toll-free
    "(800) 555-1212": "fake_phone",  # ours: libphonenumber says valid toll-free
    "212-555-0100": "+12125550100",  # fictional 555-01xx kept on purpose
    "911": "invalid_phone",
    "001 415 555 2671": "invalid_phone",
    "011 44 20 7946 0958": "+442079460958",
    "+44 20 7946 0958": "+442079460958",
    "+52 55 1234 5678": "+525512345678",
    "787-555-1234": "+17875551234",  # ours: valid, though not valid *for region US*
    "(939) 555-0100": "+19395550100",
    "671-555-0100": "+16715550100",
    "340-555-0100": "+13405550100",
    "670-555-0100": "+16705550100",
    "684-555-0100": "invalid_phone",
    "N/A": "no_phone",  # ours: libphonenumber only says "not a phone number"
    "": "no_phone",
    "415 555 2671 / 415 555 2672": "invalid_phone",
}


def outcome(raw: str | None, region: str = "US") -> str:
    try:
        return normalize_phone(raw, region)
    except InvalidRecord as exc:
        return exc.reason


def assert_no_phone_leak(message: str, raw: str) -> None:
    """Neither the input, nor its digits, nor any run of 3+ digits from it is in the message."""
    assert raw not in message
    assert re.sub(r"\D", "", raw) not in message
    for run in re.findall(r"\d{3,}", raw):
        assert run not in message


def test_vectors_file_and_expectations_cover_the_same_inputs() -> None:
    assert [row["input"] for row in VECTOR_ROWS] == list(OUR_OUTCOME)


@pytest.mark.parametrize(
    "row", VECTOR_ROWS, ids=[f"{r['input'] or '<empty>'} ({r['note']})" for r in VECTOR_ROWS]
)
def test_vectors_file(row: dict[str, str]) -> None:
    expected = OUR_OUTCOME[row["input"]]
    assert outcome(row["input"]) == expected
    if not expected.startswith("+") and sum(c.isdigit() for c in row["input"]) >= 7:
        with pytest.raises(InvalidRecord) as caught:
            normalize_phone(row["input"], "US")
        assert_no_phone_leak(str(caught.value), row["input"])
    if expected.startswith("+") and row["is_valid"] == "True":
        assert expected == row["e164_if_parsed"]


@pytest.mark.parametrize(
    ("raw", "region", "e164"),
    [
        ("(415) 555-2671", "US", "+14155552671"),
        ("  415 555 2671  ", "US", "+14155552671"),
        ("4155552671.00", "US", "+14155552671"),
        ("14155552671.0", "US", "+14155552671"),
        ("+1 415 555 2671 ext 12", "US", "+14155552671"),
        ("415-555-2671 #123", "US", "+14155552671"),
        ("tel:+14155552671", "US", "+14155552671"),
        ("415/555-2671", "US", "+14155552671"),
        ("787-555-1234", "US", "+17875551234"),
        ("671-555-0100", "US", "+16715550100"),
        ("340-555-0100", "US", "+13405550100"),
        ("+44 20 7946 0958", "US", "+442079460958"),
        ("011 44 20 7946 0958", "US", "+442079460958"),
        ("+44 7911 123456", "US", "+447911123456"),
        ("(415) 555-0199", "US", "+14155550199"),
        ("020 7946 0958", "GB", "+442079460958"),
    ],
    ids=["us-format", "surrounding-space", "excel-.00", "excel-.0-leading-1", "extension-ext",
         "extension-hash", "rfc3966-tel", "slash-inside-one-number", "puerto-rico", "guam",
         "us-virgin-islands", "uk-with-plus", "uk-via-011", "uk-mobile",
         "fictional-555-01xx-kept", "national-format-for-other-region"],
)
def test_accepted_numbers_become_e164(raw: str, region: str, e164: str) -> None:
    assert normalize_phone(raw, region) == e164


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (None, "no_phone"),
        ("", "no_phone"),
        ("   ", "no_phone"),
        ("N/A", "no_phone"),
        ("na", "no_phone"),
        ("None", "no_phone"),
        ("NULL", "no_phone"),
        ("-", "no_phone"),
        ("--", "no_phone"),
        ("0", "no_phone"),
        ("Unknown", "no_phone"),
        ("(   )    -    ", "no_phone"),
        ("4.15555E+09", "invalid_phone"),
        ("4.155552671e9", "invalid_phone"),
        ("415 555 2671 / 415 555 2672", "invalid_phone"),
        ("415-555-2671, 415-555-2672", "invalid_phone"),
        ("415 555 2671 or 415 555 2672", "invalid_phone"),
        ("415 555 2671 OR 415 555 2672", "invalid_phone"),
        ("415555267", "invalid_phone"),
        ("+1415555267", "invalid_phone"),
        ("001 415 555 2671", "invalid_phone"),
        ("684-555-0100", "invalid_phone"),
        ("(555) 123-4567", "invalid_phone"),
        ("call me", "invalid_phone"),
        ("jane@example.com", "invalid_phone"),
        ("4155552671.5", "invalid_phone"),
        ("4" * 80, "invalid_phone"),
        ("888-888-8888", "fake_phone"),
        ("999-999-9999", "fake_phone"),
        ("555-555-5555", "fake_phone"),
        ("000-000-0000", "fake_phone"),
        ("+44 7777 777777", "fake_phone"),
        ("1234567890", "fake_phone"),
        ("0123456789", "fake_phone"),
        ("234-567-8901", "fake_phone"),
        ("987-654-3210", "fake_phone"),
        ("415-555-1212", "fake_phone"),
        ("1 (212) 555-1212", "fake_phone"),
        ("(800) 234-5678", "fake_phone"),
        ("877-234-5678", "fake_phone"),
        ("1-800-FLOWERS", "fake_phone"),
        ("+1 900 234 5678", "not_a_personal_number"),
        ("+44 909 879 0000", "not_a_personal_number"),
    ],
    ids=["none", "empty", "whitespace", "N/A", "na", "None", "NULL", "dash", "double-dash",
         "zero", "unknown", "unfilled-input-mask", "excel-scientific", "excel-scientific-lower",
         "two-numbers-slash", "two-numbers-comma", "two-numbers-or", "two-numbers-OR",
         "9-digits", "9-digits-e164", "001-is-not-a-us-prefix", "american-samoa-example",
         "area-code-555", "words", "email-in-phone-field", "excel-non-zero-fraction",
         "absurdly-long", "888-888-8888", "all-9s", "555-555-5555", "all-zeros",
         "foreign-repeated-digit", "ascending-run", "ascending-run-from-0", "wrapping-run",
         "descending-run", "directory-assistance", "directory-assistance-with-1",
         "toll-free-800", "toll-free-877", "toll-free-vanity", "premium-900", "premium-uk"],
)
def test_rejected_numbers_have_a_reason(raw: str | None, reason: str) -> None:
    with pytest.raises(InvalidRecord) as caught:
        normalize_phone(raw, "US")
    assert caught.value.reason == reason
    assert caught.value.field == "phone"
    assert str(caught.value).startswith("phone: ")
    if raw is not None and sum(c.isdigit() for c in raw) >= 7:
        assert_no_phone_leak(str(caught.value), raw)


@pytest.mark.parametrize(
    "raw",
    [
        "(415) 555-2671 / (415) 555-2672",
        "4155552671.5",
        "+1 900 234 5678",
        "888-888-8888",
        "415555267",
        "+1-415-555-2671 x123 and 415-555-9999",
        "415-555-1212",
    ],
)
def test_messages_mask_the_number(raw: str) -> None:
    with pytest.raises(InvalidRecord) as caught:
        normalize_phone(raw, "US")
    message = str(caught.value)
    assert_no_phone_leak(message, raw)
    assert "***" in message


def test_message_shows_the_last_two_digits_and_the_digit_count() -> None:
    with pytest.raises(InvalidRecord) as caught:
        normalize_phone("415555267", "US", field="cell_phone")
    assert str(caught.value) == "cell_phone: '***67' (9 digits) is not a valid phone number"
    assert caught.value.field == "cell_phone"


def test_scientific_notation_message_says_excel_lost_digits() -> None:
    with pytest.raises(InvalidRecord, match="Excel lost digits"):
        normalize_phone("4.15555E+09", "US")


def test_two_numbers_message_says_so() -> None:
    with pytest.raises(InvalidRecord, match="two numbers in one field"):
        normalize_phone("415 555 2671 / 415 555 2672", "US")


def test_unknown_region_is_a_configuration_error() -> None:
    with pytest.raises(ValueError, match="unknown phone region"):
        normalize_phone("415 555 2671", "ZZ")
