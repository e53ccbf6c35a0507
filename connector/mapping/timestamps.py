"""Date/time cells from POS exports → aware UTC datetimes."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, tzinfo
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from connector.errors import InvalidRecord
from connector.mapping.masking import excerpt
from connector.mapping.sentinels import clean

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ACCEPTED = "ISO-8601, YYYY-MM-DD, MM/DD/YYYY [HH:MM[:SS] [AM/PM]], epoch seconds or milliseconds"

# Extended-format ISO-8601 only: a fixed, readable set rather than everything
# datetime.fromisoformat happens to accept (week dates, 20261101...).
_ISO = re.compile(
    r"\d{4}-\d{2}-\d{2}"
    r"(?:[T ]\d{2}(?::\d{2}(?::\d{2}(?:[.,]\d{1,9})?)?)?"
    r"(?:Z|[+-]\d{2}(?::?\d{2})?)?)?"
)
_US = re.compile(
    r"(?P<month>\d{1,2})/(?P<day>\d{1,2})/(?P<year>\d{4}|\d{2})"
    r"(?:[T ]\s*(?P<hour>\d{1,2}):(?P<minute>\d{2})(?::(?P<second>\d{2}))?"
    r"\s*(?P<meridiem>AM|PM)?)?"
)
_EPOCH_SECONDS = re.compile(r"\d{10}")
_EPOCH_MILLIS = re.compile(r"\d{13}")

# Placeholder dates written by POS systems and spreadsheets for "no date":
# 0001-01-01 (.NET/Go zero value), 1900-01-01 (Excel/SQL Server), 9999-12-31 ("never").
_SENTINEL_YEAR_MAX = 1901
_SENTINEL_YEAR_MIN = 9999


def parse_timestamp(raw: str | None, *, field: str, tz: str = "UTC") -> datetime | None:
    """Parse a date/time cell into an aware datetime in UTC; ``None`` when there is no date.

    Accepted: ISO-8601 (``T`` or space, ``Z`` or an offset, fractional seconds), a bare
    date (midnight), US ``MM/DD/YYYY`` with an optional ``H:MM[:SS]`` and ``AM``/``PM``,
    two-digit years (``11/1/26``; 00-68 → 20xx, 69-99 → 19xx as POSIX ``%y``), and epoch
    seconds (10 digits) or milliseconds (13 digits). Day-first dates are not accepted:
    ``13/01/2026`` is rejected rather than guessed.

    Values without a zone are wall-clock time in ``tz`` (an IANA name such as
    ``America/Los_Angeles``; an unknown name raises ``ValueError``: config validates it).
    A wall-clock time that is ambiguous (autumn overlap) or missing (spring gap) is read
    with the offset in force before the change (PEP 495 ``fold=0``): 01:30 on the night
    clocks go back is daylight time.

    Sentinel dates (year <= 1901 such as ``1900-01-01`` or ``0001-01-01``, and year 9999)
    and empty cells return ``None``. Future dates are returned as they are; judging them is
    the caller's business. Anything else is ``invalid_timestamp``.
    """
    zone = _zone(tz)
    text = clean(raw)
    if text is None:
        return None
    parsed = _parse(text.upper(), zone)
    if parsed is None:
        raise InvalidRecord(
            "invalid_timestamp",
            f"{field}: {excerpt(text)} is not a date/time (accepted: {_ACCEPTED})",
            field=field,
        )
    if parsed.year <= _SENTINEL_YEAR_MAX or parsed.year >= _SENTINEL_YEAR_MIN:
        return None
    return parsed.astimezone(UTC)


def _parse(text: str, zone: tzinfo) -> datetime | None:
    """The value as an aware datetime in its own zone, or ``None`` if no format fits."""
    try:
        if _EPOCH_SECONDS.fullmatch(text):
            return _EPOCH + timedelta(seconds=int(text))
        if _EPOCH_MILLIS.fullmatch(text):
            return _EPOCH + timedelta(milliseconds=int(text))
        if _ISO.fullmatch(text):
            value = datetime.fromisoformat(text)
            return value if value.tzinfo else value.replace(tzinfo=zone)
        match = _US.fullmatch(text)
        if match:
            return _from_us(match, zone)
    except ValueError:  # out-of-range month, day, hour...
        return None
    return None


def _from_us(match: re.Match[str], zone: tzinfo) -> datetime | None:
    year = int(match["year"])
    if len(match["year"]) == 2:
        year += 2000 if year <= 68 else 1900
    day = date(year, int(match["month"]), int(match["day"]))
    if match["hour"] is None:
        return datetime(day.year, day.month, day.day, tzinfo=zone)
    hour = int(match["hour"])
    meridiem = match["meridiem"]
    if meridiem is not None:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if meridiem == "PM" else 0)
    second = int(match["second"] or 0)
    return datetime(day.year, day.month, day.day, hour, int(match["minute"]), second,
                    tzinfo=zone)


@cache
def _zone(tz: str) -> tzinfo:
    if tz.upper() == "UTC":
        return UTC
    try:
        return ZoneInfo(tz)
    except ZoneInfoNotFoundError as exc:  # a KeyError subclass; callers expect ValueError
        raise ValueError(f"unknown time zone {tz!r}") from exc


def valid_zone(name: str) -> str:
    """``name`` if it is an IANA time zone; ``ValueError`` saying what is expected."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"{name!r} is not an IANA time zone such as UTC or "
                         "America/Los_Angeles") from exc
    return name


def parse_iso_utc(text: str) -> datetime | None:
    """A strict ISO-8601 time with a zone (``Z`` or an offset), as an API writes it, in
    UTC; ``None`` for anything else (no zone, not ISO)."""
    try:
        parsed = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return None if parsed.tzinfo is None else parsed.astimezone(UTC)
