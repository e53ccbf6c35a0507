"""``sandbox.sticky.signing``: the Sticky-Signature format, independently recomputed."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from sandbox.sticky.signing import parse, sign, signature_hex, verify

SECRET = "whsec_abcdefghijklmnopqrstuvwxyz012345"
BODY = b'{"id":"whe_x","type":"journey.entered"}'
T = 1_777_000_000


def test_sign_format_and_value() -> None:
    expected = hmac.new(SECRET.encode(), f"{T}.".encode() + BODY, hashlib.sha256).hexdigest()
    assert signature_hex(SECRET, BODY, T) == expected
    assert sign(SECRET, BODY, T) == f"t={T},v1={expected}"
    assert parse(sign(SECRET, BODY, T)) == (T, [expected])


def test_verify() -> None:
    header = sign(SECRET, BODY, T)
    assert verify(SECRET, BODY, header, now=T + 10)
    assert verify(SECRET, BODY, header, tolerance=None)
    assert not verify(SECRET + "x", BODY, header, now=T)
    assert not verify(SECRET, BODY + b" ", header, now=T)
    assert not verify(SECRET, BODY, header, now=T + 301)  # default tolerance 300 s
    assert verify(SECRET, BODY, f"t={T},v1=00,{header.split(',')[1]}", now=T)  # any v1 matches


@pytest.mark.parametrize("header", ["", "t=1", "v1=ab", "t=x,v1=ab", "t=1;v1=ab", "garbage"])
def test_malformed_headers_never_verify(header: str) -> None:
    assert parse(header) is None
    assert not verify(SECRET, BODY, header, tolerance=None)
