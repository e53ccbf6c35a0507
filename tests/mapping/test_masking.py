from __future__ import annotations

import pytest

from connector.mapping.masking import excerpt, mask_email, mask_phone


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        ("(415) 555-2671", "***71"),
        ("+14155552671", "***71"),
        ("+1-415-555-2671 x123", "***23"),
        ("7", "***7"),
        ("N/A", "***"),
        ("", "***"),
    ],
    ids=["us-format", "e164", "extension-digits-are-last", "one-digit", "no-digits", "empty"],
)
def test_mask_phone_keeps_only_the_last_two_digits(raw: str, masked: str) -> None:
    assert mask_phone(raw) == masked


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        ("Jane.Smith@example.com", "J***@example.com"),
        ("  sam@example.com ", "s***@example.com"),
        ("a@b.co", "a***@b.co"),
        ('"a@b"@example.com', '"***@example.com'),
        ("@example.com", "***@example.com"),
        ("jane@", "j***@"),
        ("4155552671", "4***"),
        ("", "***"),
    ],
    ids=["plain", "whitespace", "one-char-local", "at-in-local-part", "no-local-part",
         "no-domain", "no-at-sign", "empty"],
)
def test_mask_email_keeps_first_character_and_domain(raw: str, masked: str) -> None:
    assert mask_email(raw) == masked


def test_excerpt_quotes_short_values_whole() -> None:
    assert excerpt("maybe") == "'maybe'"


def test_excerpt_cuts_long_values_and_says_how_long() -> None:
    shown = excerpt("x" * 1000)
    assert shown == "'" + "x" * 40 + "'... (1000 chars)"
