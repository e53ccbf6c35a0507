"""Phone cells → E.164, the key Sticky de-duplicates customers on.

Reason codes:

* ``no_phone``: the cell says there is no phone (empty, ``N/A``, an unfilled input mask...).
* ``invalid_phone``: there is something, but not one valid phone number.
* ``fake_phone``: a number somebody typed to get past a required field, or one that cannot
  be a customer's own line: one repeated digit, a run like ``1234567890``, directory
  assistance ``555-1212``, and toll-free numbers (``800``/``888``/``877``... a business's
  line, and where ``888-888-8888`` lands).
* ``not_a_personal_number``: a real number that is a paid service (premium rate, ``900``).

The split is by what the operator does next: ``fake_phone`` is a store-training problem (the
cashier invented a number), ``not_a_personal_number`` is a genuine but unusable number.
"""

from __future__ import annotations

import re
from functools import lru_cache

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumber, PhoneNumberFormat, PhoneNumberType

from connector.errors import InvalidRecord
from connector.mapping.masking import mask_phone

_PLACEHOLDERS = frozenset(
    {"n/a", "na", "none", "null", "nil", "0", "unknown", "no phone", "nophone", "no_phone"}
)
_MAX_TEXT = 64

# Spreadsheets store a phone column as numbers: 4155552671 comes back as "4155552671.0",
# or, when the column is too narrow, as "4.15555E+09" with the last digits gone for good.
_EXCEL_FLOAT = re.compile(r"([0-9]+)\.0{1,2}")
_SCIENTIFIC = re.compile(r"[0-9](?:\.[0-9]+)?E[+-]?[0-9]+", re.IGNORECASE)

# "415 555 2671 / 415 555 2672": split on separators and count the pieces that carry a
# number's worth of digits, so "415/555-2671" and "...;ext=9" are not mistaken for two.
_SEPARATOR = re.compile(r"[/,;|&\n]|\s(?:or|and)\s", re.IGNORECASE)
_MIN_DIGITS_OF_A_NUMBER = 7

# Runs of consecutive digits, wrapping around (2345678901), in both directions.
_ASCENDING = "0123456789" * 2
_DESCENDING = _ASCENDING[::-1]
_MIN_RUN = 7

CACHED_NUMBERS = 16_384
"""Cells remembered with their E.164 form: a customer's phone recurs on its orders, and
libphonenumber's parse and validation cost ~100 µs a cell (a refused cell is not kept:
it raises again, with the same message)."""

_PARSE_PROBLEMS = {
    NumberParseException.INVALID_COUNTRY_CODE: "has no valid country code",
    NumberParseException.NOT_A_NUMBER: "is not a phone number",
    NumberParseException.TOO_SHORT_AFTER_IDD: "is too short after the international prefix",
    NumberParseException.TOO_SHORT_NSN: "is too short",
    NumberParseException.TOO_LONG: "is too long",
}


def normalize_phone(raw: str | None, region: str, *, field: str = "phone") -> str:
    """Return ``raw`` as E.164 (``"(415) 555-2671"`` → ``"+14155552671"``) or raise.

    ``region`` (ISO 3166 alpha-2, the tenant's country) is how numbers without ``+`` are
    read; an unknown region raises ``ValueError`` (config validates it). Extensions are
    dropped: E.164 has none. Vanity letters are converted (``415-CALL-NOW``); ``011 44...``
    is read as a call abroad (US international prefix), ``001...`` is not.

    Validity is ``phonenumbers.is_valid_number``, *not* ``is_valid_number_for_region``:
    Puerto Rico, Guam, the US Virgin Islands and the Northern Mariana Islands share +1 but
    are other regions to libphonenumber, and their residents are customers of a US store.
    Foreign numbers (``+44...``) are accepted for the same reason (tourists).

    The fictional range ``555-0100``..``555-0199`` is deliberately accepted: libphonenumber
    calls it valid, nobody is ever assigned one, and our synthetic test and demo data uses
    it. ``555-1212`` and ``555-555-5555`` are rejected as ``fake_phone``.

    Messages show the value masked (``***71``) and its digit count, never the number.
    """
    return _normalized(raw, region, field)


@lru_cache(maxsize=CACHED_NUMBERS)
def _normalized(raw: str | None, region: str, field: str) -> str:
    if region not in phonenumbers.SUPPORTED_REGIONS:
        raise ValueError(f"unknown phone region {region!r}")
    text = _single_number_text(_present_text(raw, field), field)
    number = _parse(text, region, field)
    _reject_fake(number, text, field)
    if not phonenumbers.is_valid_number(number):
        raise _problem("invalid_phone", field, text, "is not a valid phone number")
    number_type = phonenumbers.number_type(number)
    if number_type == PhoneNumberType.TOLL_FREE:
        raise _problem("fake_phone", field, text, "is a toll-free number, not a person's phone")
    if number_type == PhoneNumberType.PREMIUM_RATE:
        raise _problem("not_a_personal_number", field, text, "is a premium-rate number")
    e164: str = phonenumbers.format_number(number, PhoneNumberFormat.E164)
    return e164


def _present_text(raw: str | None, field: str) -> str:
    """The stripped text; ``no_phone`` if the cell says there is no phone."""
    text = (raw or "").strip()
    if not text:
        raise InvalidRecord("no_phone", f"{field}: empty", field=field)
    if text.casefold() in _PLACEHOLDERS:
        raise InvalidRecord("no_phone", f"{field}: {text!r} is a placeholder", field=field)
    if not any(c.isalnum() for c in text):  # "-", "--", an unfilled mask "(   )    -"
        raise InvalidRecord("no_phone", f"{field}: no digits, only {text[:20]!r}", field=field)
    return text


def _single_number_text(text: str, field: str) -> str:
    """Undo Excel's ``.0``; reject what Excel mangled and cells holding two numbers."""
    if len(text) > _MAX_TEXT:
        raise _problem("invalid_phone", field, text, "is too long to be a phone number")
    if _SCIENTIFIC.fullmatch(text):
        raise _problem(
            "invalid_phone", field, text,
            "is in scientific notation: Excel lost digits (format the column as text)",
        )
    excel = _EXCEL_FLOAT.fullmatch(text)
    if excel:
        text = excel[1]
    pieces = [p for p in _SEPARATOR.split(text) if _digit_count(p) >= _MIN_DIGITS_OF_A_NUMBER]
    if len(pieces) > 1:
        raise _problem("invalid_phone", field, text, "has two numbers in one field")
    return text


def _parse(text: str, region: str, field: str) -> PhoneNumber:
    try:
        return phonenumbers.parse(text, region)
    except NumberParseException as exc:
        problem = _PARSE_PROBLEMS.get(exc.error_type, "is not a phone number")
        raise _problem("invalid_phone", field, text, problem) from exc


def _reject_fake(number: PhoneNumber, text: str, field: str) -> None:
    """Patterns typed to get past a required field, valid or not per libphonenumber."""
    nsn = phonenumbers.national_significant_number(number)
    if len(set(nsn)) == 1:
        raise _problem("fake_phone", field, text, "repeats one digit")
    if len(nsn) >= _MIN_RUN and (nsn in _ASCENDING or nsn in _DESCENDING):
        raise _problem("fake_phone", field, text, "is a run of consecutive digits")
    if number.country_code == 1 and nsn[3:] == "5551212":
        raise _problem("fake_phone", field, text, "is a directory-assistance number")


def _problem(reason: str, field: str, text: str, problem: str) -> InvalidRecord:
    message = f"{field}: {mask_phone(text)!r} ({_digit_count(text)} digits) {problem}"
    return InvalidRecord(reason, message, field=field)


def _digit_count(text: str) -> int:
    return sum(1 for c in text if c.isdigit())
