"""What an HTTP status means for the caller: one table for every client (Sticky, Sticker,
Shopify, the POS APIs), so a 502 or a 429 is handled alike wherever it comes from."""

from __future__ import annotations

from enum import StrEnum


class Action(StrEnum):
    OK = "ok"
    """2xx: use the answer."""
    RATE_LIMITED = "rate_limited"
    """429: wait (``Retry-After`` when given) and try again; not a failed attempt."""
    RETRY = "retry"
    """A transient server-side failure: back off and try again."""
    REFUSED_CREDENTIALS = "refused_credentials"
    """401/403: the key or token was refused; retrying cannot help."""
    REJECTED = "rejected"
    """Any other 4xx (and 3xx, which we never follow): this request is wrong as sent."""


RETRYABLE_STATUSES = frozenset({408, 425, 500, 502, 503, 504})
"""Timeouts, too early, and server errors; any other 5xx is retried as well."""

RETRYABLE_CODES = frozenset({"idempotency_key_in_use"})
"""Error codes of a 4xx that say "the same request may succeed in a moment" (a 409
while an earlier attempt with the same idempotency key is still being processed)."""


def action_for(status: int, code: str | None = None) -> Action:
    if 200 <= status < 300:
        return Action.OK
    if status == 429:
        return Action.RATE_LIMITED
    if status in RETRYABLE_STATUSES or status >= 500 or (code in RETRYABLE_CODES):
        return Action.RETRY
    if status in (401, 403):
        return Action.REFUSED_CREDENTIALS
    return Action.REJECTED
