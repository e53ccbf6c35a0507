"""Bearer API-key checks. Messages never echo the key."""

from __future__ import annotations

import re

from sandbox.api import Authenticator
from sandbox.errors import AUTHENTICATION, ApiError

_BEARER = re.compile(r"bearer +(\S+)", re.IGNORECASE)
_KEY = re.compile(r"sk_(?:test|live)_[A-Za-z0-9_]+")


def bearer_key(header: str | None) -> str | None:
    """The key of ``Bearer sk_test_…``/``sk_live_…`` (scheme case-insensitive), else None."""
    if header is None:
        return None
    match = _BEARER.fullmatch(header.strip())
    if match is None or _KEY.fullmatch(match.group(1)) is None:
        return None
    return match.group(1)


def _unauthorized(code: str, message: str) -> ApiError:
    return ApiError(401, AUTHENTICATION, code, message)


def bearer_key_authenticator(api_keys: frozenset[str] | None) -> Authenticator:
    """Accept ``Bearer sk_test_…``/``sk_live_…``; only ``api_keys`` when that is set."""

    def authenticate(header: str | None) -> str:
        if header is None or not header.strip():
            raise _unauthorized(
                "missing_api_key",
                "No API key provided. Send it as 'Authorization: Bearer sk_test_...'.",
            )
        key = bearer_key(header)
        if key is None:
            raise _unauthorized(
                "invalid_api_key",
                "Malformed API key. Expected 'Authorization: Bearer sk_test_...' "
                "or 'Bearer sk_live_...'.",
            )
        if api_keys is not None and key not in api_keys:
            raise _unauthorized("invalid_api_key", "Invalid API key provided.")
        return key

    return authenticate
