from __future__ import annotations

import pytest

from connector.errors import InvalidRecord
from connector.mapping.email import is_placeholder_email, normalize_email


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("sam@example.com", "sam@example.com"),
        ("  Sam@Example.COM ", "sam@example.com"),
        ("JANE.SMITH@GMAIL.COM", "jane.smith@gmail.com"),
        ("user+loyalty@gmail.com", "user+loyalty@gmail.com"),
        ("j@x.co", "j@x.co"),
        ("JÖHN@Bücher.DE", "jöhn@bücher.de"),
        ("noel@nonesuch.com", "noel@nonesuch.com"),
        ("jane@email.com", "jane@email.com"),
    ],
    ids=["plain", "strip-and-lowercase-all", "uppercase-local-part", "plus-tag",
         "short", "international", "starts-like-none", "email.com-is-a-real-provider"],
)
def test_valid_addresses_are_stripped_and_lowercased(raw: str, expected: str) -> None:
    assert normalize_email(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [None, "", "   ", "n/a", "N/A", "none", "NONE", "-", "--", "noemail", "No Email",
     "no@email.com", "none@none.com", "na@na.com", "test@test.com", "NoEmail@Store.com",
     "none@gmail.com", "declined", "x@x.com", "someone@noemail.com"],
    ids=repr,
)
def test_no_email_placeholders_become_none(raw: str | None) -> None:
    assert normalize_email(raw) is None


@pytest.mark.parametrize(
    ("text", "placeholder"),
    [
        ("no@email.com", True),
        ("  NONE@NONE.COM ", True),
        ("noreply@store.com", True),
        ("", True),
        ("n/a", True),
        ("sam@example.com", False),
        ("nobody@gmail.com", False),
        ("tester@gmail.com", False),
        ("jane@na.co", False),
    ],
    ids=["no@email.com", "case-and-space", "noreply", "empty", "n/a", "real",
         "nobody-is-a-real-name", "tester", "na.co-is-not-na.com"],
)
def test_is_placeholder_email(text: str, placeholder: bool) -> None:
    assert is_placeholder_email(text) is placeholder


@pytest.mark.parametrize(
    "raw",
    [
        "jane.smith",
        "jane.smith@",
        "jane smith@gmail.com",
        "jane..smith@gmail.com",
        "jane.smith@gmail",
        "jane.smith@gmail,com",
        "jane.smith@@gmail.com",
        "Jane Smith <jane.smith@gmail.com>",
        "jane.smith@mail.test",
        "4155552671",
        "a" * 400 + "@gmail.com",
    ],
    ids=["no-at-sign", "no-domain", "space", "double-dot", "no-tld", "comma-for-dot",
         "two-at-signs", "display-name", "reserved-domain", "phone-in-email-field", "huge"],
)
def test_invalid_addresses_are_rejected_with_the_address_masked(raw: str) -> None:
    with pytest.raises(InvalidRecord) as caught:
        normalize_email(raw, field="email")
    message = str(caught.value)
    assert caught.value.reason == "invalid_email"
    assert caught.value.field == "email"
    assert message.startswith("email: ")
    assert raw not in message
    local = raw.partition("@")[0]
    assert local not in message
    assert "***" in message


def test_message_shows_first_character_and_domain() -> None:
    with pytest.raises(InvalidRecord) as caught:
        normalize_email("jane.smith@mail.test", field="contact_email")
    assert str(caught.value).startswith("contact_email: 'j***@mail.test' is not a valid")
    assert caught.value.field == "contact_email"
