"""The ``Sticky-Signature`` header: how a delivery proves it comes from Sticky.

Sticky's doc says only "HMAC-SHA256 in the Sticky-Signature header". We define (and the
sandbox implements) the scheme below, the one Stripe-style senders use; docs/webhooks.md
states it for whoever runs the other end:

    Sticky-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>." + raw body)>

- the signed string is the timestamp, a dot, then the exact body bytes (nothing parsed
  or re-serialised first), so a body altered after signing fails;
- several ``v1=`` values may be present (a secret being rotated): one match is enough;
- a delivery signed more than ``tolerance`` seconds before (or after) our clock is a
  replay and is refused, even with a valid signature; inside the window a replay is
  harmless, because events are stored once by id;
- comparison is constant-time (``hmac.compare_digest``).
"""

from __future__ import annotations

import hashlib
import hmac
import time

from connector.errors import WebhookRefused

HEADER = "Sticky-Signature"
SCHEME = "v1"
DEFAULT_TOLERANCE_SECONDS = 300


def compute(secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body,
                    hashlib.sha256).hexdigest()


def sign(secret: str, body: bytes, timestamp: int | None = None) -> str:
    """The header value for ``body`` (what Sticky sends; used by tests and tools)."""
    moment = int(time.time()) if timestamp is None else timestamp
    return f"t={moment},{SCHEME}={compute(secret, moment, body)}"


def parse(header: str | None) -> tuple[int, list[str]]:
    """(timestamp, v1 signatures) of a header value."""
    if not header:
        raise WebhookRefused("missing_signature", f"no {HEADER} header")
    timestamp: int | None = None
    signatures: list[str] = []
    for part in header.split(","):
        name, _, value = part.strip().partition("=")
        if name == "t" and value.isdigit():
            timestamp = int(value)
        elif name == SCHEME and value:
            signatures.append(value.strip().lower())
    if timestamp is None or not signatures:
        raise WebhookRefused("malformed_signature",
                             f"{HEADER} must be t=<unix seconds>,{SCHEME}=<hex>")
    return timestamp, signatures


def verify(secrets: list[str], header: str | None, body: bytes, *,
           tolerance: int = DEFAULT_TOLERANCE_SECONDS, now: float | None = None) -> int:
    """The delivery's timestamp when ``header`` signs ``body`` with one of ``secrets``
    within ``tolerance`` seconds of ``now``; raises :class:`WebhookRefused` otherwise.
    The signature is checked before the clock, so a stale forgery says ``bad_signature``."""
    timestamp, signatures = parse(header)
    expected = [compute(secret, timestamp, body) for secret in secrets]
    matched = False
    for candidate in signatures:
        for wanted in expected:
            matched |= hmac.compare_digest(candidate.encode(), wanted.encode())
    if not matched:
        raise WebhookRefused("bad_signature",
                             "the signature does not match the body and signing secret")
    clock = time.time() if now is None else now
    if abs(clock - timestamp) > tolerance:
        raise WebhookRefused(
            "stale_timestamp", f"signed at {timestamp}, {int(clock - timestamp)} s from now: "
            f"outside the {tolerance} s tolerance (a replay, or a clock off)")
    return timestamp
