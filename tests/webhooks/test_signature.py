"""Signature verification: our scheme, the other common ways of writing it, and what is
refused (forged, altered, stale, no timestamp)."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest

from connector.errors import WebhookRefused
from connector.webhooks.signature import parse, sign, verify

SECRET = "whsec_signature_test"
BODY = b'{"id":"whe_1","type":"customer.tier_changed","data":{"tier":"gold"}}'
NOW = 1_764_745_200


def mac(message: bytes, secret: str = SECRET) -> bytes:
    return hmac.new(secret.encode(), message, hashlib.sha256).digest()


def test_our_scheme_round_trips() -> None:
    assert verify([SECRET], sign(SECRET, BODY, NOW), BODY, now=NOW + 10) == NOW


@pytest.mark.parametrize(("header", "timestamp_header"), [
    # the signature alone in the header, the timestamp beside it
    (mac(f"{NOW}.".encode() + BODY).hex(), str(NOW)),
    ("sha256=" + mac(f"{NOW}.".encode() + BODY).hex(), str(NOW)),
    ("v1=" + mac(f"{NOW}.".encode() + BODY).hex(), str(NOW)),
    # base64 instead of hex
    (f"t={NOW},v1=" + base64.b64encode(mac(f"{NOW}.".encode() + BODY)).decode(), None),
    (base64.b64encode(mac(f"{NOW}.".encode() + BODY)).decode(), str(NOW)),
    # timestamp and body concatenated without the dot
    (f"t={NOW},v1=" + mac(str(NOW).encode() + BODY).hex(), None),
    # milliseconds, signed as written
    (f"t={NOW}123,v1=" + mac(f"{NOW}123.".encode() + BODY).hex(), None),
])
def test_other_common_forms_are_accepted(header: str, timestamp_header: str | None) -> None:
    assert verify([SECRET], header, BODY, now=NOW, timestamp_header=timestamp_header) == NOW


@pytest.mark.parametrize(("header", "timestamp_header", "reason"), [
    (None, None, "missing_signature"),
    ("", None, "missing_signature"),
    (mac(f"{NOW}.".encode() + BODY).hex(), None, "malformed_signature"),  # no timestamp
    (f"t=abc,v1={'0' * 64}", None, "malformed_signature"),
    (f"t={NOW},v1=not-a-digest", None, "malformed_signature"),
    (sign("whsec_other", BODY, NOW), None, "bad_signature"),
    (f"t={NOW},v1=" + mac(BODY).hex(), None, "bad_signature"),  # body only: no timestamp
    (sign(SECRET, BODY, NOW - 301), None, "stale_timestamp"),
    (sign(SECRET, BODY, NOW + 301), None, "stale_timestamp"),
    # the timestamp header cannot stand in for a signed one that is there
    (sign(SECRET, BODY, NOW - 3600), str(NOW), "stale_timestamp"),
])
def test_refusals(header: str | None, timestamp_header: str | None, reason: str) -> None:
    with pytest.raises(WebhookRefused) as refused:
        verify([SECRET], header, BODY, now=NOW, timestamp_header=timestamp_header)
    assert refused.value.reason == reason


def test_an_altered_body_or_a_moved_timestamp_fails() -> None:
    header = sign(SECRET, BODY, NOW)
    with pytest.raises(WebhookRefused, match="does not match"):
        verify([SECRET], header, BODY.replace(b"gold", b"platinum"), now=NOW)
    moved = header.replace(f"t={NOW}", f"t={NOW + 1}")
    with pytest.raises(WebhookRefused, match="does not match"):
        verify([SECRET], moved, BODY, now=NOW)


def test_any_of_several_secrets_and_signatures() -> None:
    header = sign(SECRET, BODY, NOW) + ",v1=" + "0" * 64
    assert verify(["whsec_old", SECRET], header, BODY, now=NOW) == NOW


@pytest.mark.parametrize("stamp", ["9" * 5000, "1" * 14, "\uff11\uff17\uff16\uff14",
                                   "\u00b2\u00b3", "1_000"])
def test_a_timestamp_is_1_to_13_ascii_digits_or_refused(stamp: str) -> None:
    with pytest.raises(WebhookRefused) as refused:
        parse(f"t={stamp},v1={'0' * 64}")
    assert refused.value.reason == "malformed_signature"
