"""Turning HTTP outcomes into the project's error taxonomy, in one place.

Sticky documents errors as JSON "with a type, code, and human-readable message". We read
that flat shape and also the common ``{"error": {...}}`` envelope, so another
implementation of the same doc is understood too.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from connector.delivery._http import httpx
from connector.delivery.retry_after import parse_retry_after
from connector.errors import (
    AuthenticationFailed,
    NetworkError,
    RateLimited,
    RejectedByTarget,
    ServerError,
)
from connector.redact import scrub

RETRYABLE_STATUSES = frozenset({408, 425, 500, 502, 503, 504})


@dataclass(frozen=True, slots=True)
class ErrorBody:
    type: str | None
    code: str | None
    message: str | None
    param: str | None


def read_error_body(response: httpx.Response) -> ErrorBody:
    try:
        data: Any = response.json()
    except ValueError:
        return ErrorBody(None, None, None, None)
    if isinstance(data, dict) and isinstance(data.get("error"), dict):
        data = data["error"]
    if not isinstance(data, dict):
        return ErrorBody(None, None, None, None)

    def text(key: str) -> str | None:
        value = data.get(key)
        return str(value) if isinstance(value, str | int) else None

    return ErrorBody(text("type"), text("code"), text("message"), text("param"))


def raise_for_response(response: httpx.Response, what: str) -> None:
    """Return on 2xx; otherwise raise the error class that says what to do next."""
    status = response.status_code
    if 200 <= status < 300:
        return
    body = read_error_body(response)
    detail = scrub(f"{status} {body.type or 'error'}/{body.code or 'unknown'}: "
                   f"{body.message or response.reason_phrase}")
    if status in {401, 403}:
        raise AuthenticationFailed(f"{what}: the target refused the credentials ({detail})")
    retry_after = parse_retry_after(response.headers.get("Retry-After"))
    if status == 429:
        raise RateLimited(f"{what}: rate limited ({detail})", retry_after=retry_after,
                          status=status)
    if status in RETRYABLE_STATUSES or status >= 500 or (
            status == 409 and body.code == "idempotency_key_in_use"):
        raise ServerError(f"{what}: {detail}", retry_after=retry_after, status=status)
    reason = body.code or f"http_{status}"
    raise RejectedByTarget(reason, f"{what}: rejected by the target ({detail})",
                           status=status, field=body.param)


@contextmanager
def transport_errors(what: str) -> Iterator[None]:
    """Map the HTTP library's network exceptions to :class:`NetworkError`."""
    try:
        yield
    except httpx.TransportError as exc:
        raise NetworkError(f"{what}: {type(exc).__name__}: {scrub(str(exc)) or 'no detail'}"
                           ) from exc
