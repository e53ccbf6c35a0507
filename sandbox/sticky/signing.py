"""Webhook signatures: ``Sticky-Signature: t=<unix seconds>,v1=<hex>``.

``hex`` is HMAC-SHA256 with the subscription's secret (the whole ``whsec_…`` string, UTF-8)
as key, over ``f"{t}.".encode() + body`` (the exact raw body bytes).
"""

from __future__ import annotations

import hashlib
import hmac
import time

SIGNATURE_HEADER = "Sticky-Signature"
DEFAULT_TOLERANCE = 300.0


def signature_hex(secret: str, body: bytes, timestamp: int) -> str:
    """The ``v1`` value for ``body`` signed at ``timestamp``."""
    message = f"{timestamp}.".encode() + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def sign(secret: str, body: bytes, timestamp: int) -> str:
    """The ``Sticky-Signature`` header value: ``t=<timestamp>,v1=<hex>``."""
    return f"t={timestamp},v1={signature_hex(secret, body, timestamp)}"


def parse(header: str) -> tuple[int, list[str]] | None:
    """``(t, [v1 values])`` of a header value, or None when it is malformed."""
    timestamp: int | None = None
    signatures: list[str] = []
    for part in header.split(","):
        key, sep, value = part.strip().partition("=")
        if not sep:
            return None
        if key == "t":
            if not value.isdigit():
                return None
            timestamp = int(value)
        elif key == "v1":
            signatures.append(value)
    if timestamp is None or not signatures:
        return None
    return timestamp, signatures


def verify(
    secret: str,
    body: bytes,
    header: str,
    tolerance: float | None = DEFAULT_TOLERANCE,
    now: float | None = None,
) -> bool:
    """Whether ``header`` signs ``body`` with ``secret`` (and, unless ``tolerance`` is
    None, whether its timestamp is within ``tolerance`` seconds of ``now``)."""
    parsed = parse(header)
    if parsed is None:
        return False
    timestamp, signatures = parsed
    if tolerance is not None:
        current = time.time() if now is None else now
        if abs(current - timestamp) > tolerance:
            return False
    expected = signature_hex(secret, body, timestamp)
    return any(hmac.compare_digest(expected, candidate) for candidate in signatures)
