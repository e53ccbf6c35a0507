"""The ``Sticky-Signature`` header: how a delivery proves it comes from Sticky.

Sticky's doc says only "HMAC-SHA256 in the Sticky-Signature header". We define (and the
sandbox sends) the scheme below, the one Stripe-style senders use; docs/webhooks.md
states it for whoever runs the other end:

    Sticky-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>." + raw body)>

- the signed string is the timestamp, a dot, then the exact body bytes (nothing parsed
  or re-serialised first), so a body altered after signing fails;
- several ``v1=`` values may be present (a secret being rotated): one match is enough;
- a delivery signed more than ``tolerance`` seconds before (or after) our clock is a
  replay and is refused, even with a valid signature; inside the window a replay is
  harmless, because events are stored once by id;
- comparison is constant-time (``hmac.compare_digest``).

Because the doc leaves the format open, the receiver also accepts the other common ways
of writing the same thing (a sender that is not our sandbox may use one): the timestamp in
a ``Sticky-Timestamp`` header with the header holding just the signature (``<hex>``,
``sha256=<hex>`` or ``v1=<hex>``), the signature in base64 instead of hex, the timestamp in
milliseconds, and the signed string without the dot (timestamp immediately followed by
the body). A timestamp is always required: without one a captured delivery could be
replayed for ever.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import time
from dataclasses import dataclass

from connector.errors import WebhookRefused

HEADER = "Sticky-Signature"
TIMESTAMP_HEADER = "Sticky-Timestamp"
SCHEME = "v1"
DEFAULT_TOLERANCE_SECONDS = 300
_TIMESTAMP = re.compile(r"[0-9]{1,13}")
"""Unix seconds or milliseconds: never more than 13 digits (anything longer is refused
before it is turned into a number)."""
_MILLISECONDS_FROM = 10**11
"""A timestamp this large is in milliseconds (10**11 seconds is the year 5138)."""


@dataclass(frozen=True, slots=True)
class SignedHeader:
    timestamp: int
    """Unix seconds."""
    timestamp_text: str
    """The timestamp as the sender wrote it (what it signed)."""
    signatures: tuple[bytes, ...]
    """The decoded digests offered."""


def compute(secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body,
                    hashlib.sha256).hexdigest()


def sign(secret: str, body: bytes, timestamp: int | None = None) -> str:
    """The header value for ``body`` (what Sticky sends; used by tests and tools)."""
    moment = int(time.time()) if timestamp is None else timestamp
    return f"t={moment},{SCHEME}={compute(secret, moment, body)}"


def _digest(text: str) -> bytes | None:
    """A 32-byte SHA-256 digest written in hex or base64, else None."""
    value = text.strip()
    if len(value) == 64:
        try:
            return bytes.fromhex(value)
        except ValueError:
            return None
    try:
        raw = base64.b64decode(value + "=" * (-len(value) % 4), altchars=b"-_"
                               if ("-" in value or "_" in value) else None, validate=True)
    except (binascii.Error, ValueError):
        return None
    return raw if len(raw) == 32 else None


def parse(header: str | None, timestamp_header: str | None = None) -> SignedHeader:
    """The timestamp and signatures of a delivery (see the module doc for the forms)."""
    if not header or not header.strip():
        raise WebhookRefused("missing_signature", f"no {HEADER} header")
    stamp: str | None = None
    offered: list[str] = []
    for part in header.split(","):
        name, sep, value = part.strip().partition("=")
        if sep and name == "t":
            stamp = value.strip()
        elif sep and name in (SCHEME, "sha256"):
            offered.append(value)
        elif not sep or name not in ("t", SCHEME, "sha256"):
            offered.append(part.strip())  # a bare signature (a base64 one may end in =)
    if stamp is None and timestamp_header is not None:
        stamp = timestamp_header.strip()
    if stamp is None or _TIMESTAMP.fullmatch(stamp) is None:
        raise WebhookRefused("malformed_signature", f"{HEADER} must be t=<unix seconds>,"
                             f"{SCHEME}=<hex> (or carry a {TIMESTAMP_HEADER} header); "
                             "a timestamp is 1 to 13 ASCII digits")
    digests = tuple(d for d in (_digest(o) for o in offered) if d is not None)
    if not digests:
        raise WebhookRefused("malformed_signature",
                             f"{HEADER} holds no HMAC-SHA256 signature (hex or base64)")
    number = int(stamp)
    seconds = number // 1000 if number >= _MILLISECONDS_FROM else number
    return SignedHeader(seconds, stamp, digests)


def verify(secrets: list[str], header: str | None, body: bytes, *,
           tolerance: int = DEFAULT_TOLERANCE_SECONDS, now: float | None = None,
           timestamp_header: str | None = None) -> int:
    """The delivery's timestamp (unix seconds) when ``header`` signs ``body`` with one of
    ``secrets`` within ``tolerance`` seconds of ``now``; raises :class:`WebhookRefused`
    otherwise. The signature is checked before the clock, so a stale forgery says
    ``bad_signature``."""
    signed = parse(header, timestamp_header)
    messages = (f"{signed.timestamp_text}.".encode() + body,
                signed.timestamp_text.encode() + body)
    expected = [hmac.new(secret.encode(), message, hashlib.sha256).digest()
                for secret in secrets for message in messages]
    matched = False
    for candidate in signed.signatures:
        for wanted in expected:
            matched |= hmac.compare_digest(candidate, wanted)
    if not matched:
        raise WebhookRefused("bad_signature",
                             "the signature does not match the body and signing secret")
    clock = time.time() if now is None else now
    if abs(clock - signed.timestamp) > tolerance:
        raise WebhookRefused(
            "stale_timestamp", f"signed at {signed.timestamp}, "
            f"{int(clock - signed.timestamp)} s before our clock: outside the {tolerance} s "
            "tolerance (a replay, or a clock off)")
    return signed.timestamp
