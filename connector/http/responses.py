"""Turning HTTP outcomes into the project's error taxonomy, in one place.

Sticky documents errors as JSON "with a type, code, and human-readable message". We read
that flat shape and also the common ``{"error": {...}}`` envelope, so another
implementation of the same doc is understood too. Sticker's errors are flat as well
(``{"error": "Validation Error", "message", "code", "details": [{code, message, path}]}``);
its ``details`` paths end up in the message and the first one names the field.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from connector.errors import (
    AuthenticationFailed,
    NetworkError,
    RateLimited,
    RejectedByTarget,
    ServerError,
)
from connector.http.lib import httpx
from connector.http.retry_after import parse_retry_after
from connector.http.statuses import Action, action_for
from connector.redact import scrub


@dataclass(frozen=True, slots=True)
class ErrorBody:
    type: str | None
    code: str | None
    message: str | None
    param: str | None
    details: tuple[tuple[str, str], ...] = ()
    """(field path, problem) per validation detail, e.g. ("user.email", "Invalid email")."""
    data: dict[str, Any] | None = None


_EMPTY = ErrorBody(None, None, None, None)


def read_error_body(response: httpx.Response) -> ErrorBody:
    try:
        data: Any = response.json()
    except ValueError:
        return _EMPTY
    if isinstance(data, dict) and isinstance(data.get("error"), dict):
        data = data["error"]
    if not isinstance(data, dict):
        return _EMPTY
    if isinstance(data.get("error"), str) and "code" not in data:
        # OAuth 2 (RFC 6749 §5.2): {"error": "invalid_client", "error_description": ...}
        data = {**data, "code": data["error"],
                "message": data.get("error_description") or data.get("message")}

    def text(key: str) -> str | None:
        value = data.get(key)
        return str(value) if isinstance(value, str | int) else None

    extra = data.get("data")
    return ErrorBody(text("type"), text("code"), text("message"), text("param"),
                     _details(data.get("details")), extra if isinstance(extra, dict) else None)


def _details(raw: object) -> tuple[tuple[str, str], ...]:
    if not isinstance(raw, list):
        return ()
    found: list[tuple[str, str]] = []
    for item in raw[:20]:
        if not isinstance(item, dict):
            continue
        path = item.get("path")
        where = field_path(path) if isinstance(path, list) else ""
        problem = item.get("message") or item.get("code") or "invalid"
        found.append((where or "<body>", str(problem)))
    return tuple(found)


def field_path(parts: list[Any]) -> str:
    """``["shippingLocations", 0, "address", "province"]`` →
    ``shippingLocations[0].address.province``."""
    text = ""
    for part in parts:
        if isinstance(part, int) and not isinstance(part, bool):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def raise_for_response(response: httpx.Response, what: str) -> None:
    """Return on 2xx; otherwise raise the error class that says what to do next
    (:func:`connector.http.statuses.action_for`)."""
    status = response.status_code
    if 200 <= status < 300:
        return
    body = read_error_body(response)
    action = action_for(status, body.code)
    detail = scrub(f"{status} {body.type or 'error'}/{body.code or 'unknown'}: "
                   f"{body.message or response.reason_phrase}" + "".join(
                       f"; {where}: {problem}" for where, problem in body.details))
    if action is Action.REFUSED_CREDENTIALS:
        raise AuthenticationFailed(f"{what}: the target refused the credentials ({detail})")
    retry_after = parse_retry_after(response.headers.get("Retry-After"))
    if action is Action.RATE_LIMITED:
        raise RateLimited(f"{what}: rate limited ({detail})", retry_after=retry_after,
                          status=status)
    if action is Action.RETRY:
        raise ServerError(f"{what}: {detail}", retry_after=retry_after, status=status)
    reason = body.code or f"http_{status}"
    raise RejectedByTarget(reason, f"{what}: rejected by the target ({detail})",
                           status=status, field=body.param or next(
                               (where for where, _ in body.details), None))


@contextmanager
def transport_errors(what: str) -> Iterator[None]:
    """Map the HTTP library's network exceptions to :class:`NetworkError`."""
    try:
        yield
    except httpx.TransportError as exc:
        raise NetworkError(f"{what}: {type(exc).__name__}: {scrub(str(exc)) or 'no detail'}"
                           ) from exc
