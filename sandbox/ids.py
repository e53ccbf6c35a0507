"""Random identifiers and timestamp formatting."""

from __future__ import annotations

import random
import string
from datetime import UTC, datetime

_ALPHABET = string.ascii_letters + string.digits
_RNG = random.SystemRandom()  # independent of the seeded fault RNG


def random_token(length: int) -> str:
    return "".join(_RNG.choices(_ALPHABET, k=length))


def new_id(prefix: str, length: int = 10) -> str:
    """``prefix`` + ``_`` + ``length`` base62 characters, e.g. ``cus_8K2xQpWb1z``."""
    return f"{prefix}_{random_token(length)}"


def utc_now() -> datetime:
    return datetime.now(UTC)


def iso_z(moment: datetime) -> str:
    """ISO-8601 UTC to the second with a ``Z`` suffix, e.g. ``2026-04-29T14:08:32Z``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_ms(moment: datetime) -> str:
    """ISO-8601 UTC to the millisecond with a ``Z`` suffix, e.g. ``2024-01-15T10:30:00.000Z``."""
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"
