"""HTTP outcomes → what the engine does (one table), and Retry-After parsing."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx2
import pytest

from connector.errors import (
    AuthenticationFailed,
    RateLimited,
    RejectedByTarget,
    ServerError,
    StickySyncError,
)
from connector.http.responses import raise_for_response
from connector.http.retry_after import parse_retry_after


def response(status: int, body: Any = None, headers: dict[str, str] | None = None
             ) -> httpx2.Response:
    return httpx2.Response(status, json=body, headers=headers or {},
                           request=httpx2.Request("POST", "http://sticky.test/v1/events"))


FLAT = {"type": "invalid_request_error", "code": "invalid_phone", "message": "phone is not "
        "E.164", "param": "phone"}
NESTED = {"error": FLAT}


@pytest.mark.parametrize(("status", "body", "headers", "expected", "reason"), [
    (200, {"id": "cus_1"}, None, None, None),
    (201, {"id": "evt_1"}, None, None, None),
    (400, FLAT, None, RejectedByTarget, "invalid_phone"),
    (400, NESTED, None, RejectedByTarget, "invalid_phone"),
    (400, None, None, RejectedByTarget, "http_400"),
    (404, {"type": "invalid_request_error", "code": "not_found"}, None, RejectedByTarget,
     "not_found"),
    (409, {"type": "idempotency_error", "code": "idempotency_key_in_use"}, None, ServerError,
     None),
    (409, {"type": "conflict", "code": "duplicate"}, None, RejectedByTarget, "duplicate"),
    (401, {"type": "authentication_error", "code": "invalid_api_key"}, None,
     AuthenticationFailed, None),
    (403, None, None, AuthenticationFailed, None),
    (429, None, {"Retry-After": "2"}, RateLimited, None),
    (408, None, None, ServerError, None),
    (425, None, None, ServerError, None),
    (500, None, None, ServerError, None),
    (502, {"type": "api_error"}, None, ServerError, None),
    (503, None, {"Retry-After": "3"}, ServerError, None),
    (504, None, None, ServerError, None),
], ids=lambda v: str(v) if isinstance(v, int) else None)
def test_status_maps_to_the_engines_action(status: int, body: Any,
                                           headers: dict[str, str] | None,
                                           expected: type[StickySyncError] | None,
                                           reason: str | None) -> None:
    if expected is None:
        raise_for_response(response(status, body, headers), "POST /v1/events")
        return
    with pytest.raises(expected) as caught:
        raise_for_response(response(status, body, headers), "POST /v1/events")
    if reason is not None:
        assert isinstance(caught.value, RejectedByTarget)
        assert caught.value.reason == reason
    if headers and "Retry-After" in headers:
        assert getattr(caught.value, "retry_after", None) == float(headers["Retry-After"])


def test_error_messages_mask_what_the_server_echoed() -> None:
    body = {"type": "invalid_request_error", "code": "invalid_email",
            "message": "sam.smith@example.com or +14155550100 is not valid"}
    with pytest.raises(RejectedByTarget) as caught:
        raise_for_response(response(400, body), "POST /v1/customers")
    text = str(caught.value)
    assert "sam.smith@example.com" not in text and "4155550100" not in text
    assert "invalid_email" in text


NOW = datetime(2026, 11, 22, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(("value", "expected"), [
    (None, None), ("", None), ("  ", None), ("1", 1.0), ("0.25", 0.25), (" 3 ", 3.0),
    ("-5", 0.0), ("3600", 60.0), ("nan", None), ("soon", None),
    ("Sun, 22 Nov 2026 12:00:05 GMT", 5.0), ("Sun, 22 Nov 2026 11:59:00 GMT", 0.0),
])
def test_retry_after_accepts_seconds_and_http_dates(value: str | None,
                                                    expected: float | None) -> None:
    assert parse_retry_after(value, now=NOW) == expected


STICKER_VALIDATION = {
    "error": "Validation Error", "message": "Invalid request body", "code": "VALIDATION_ERROR",
    "details": [
        {"code": "invalid_string", "message": "Invalid email", "path": ["user", "email"]},
        {"code": "custom", "message": "Invalid US state",
         "path": ["shippingLocations", 1, "address", "province"]}]}


def test_sticker_validation_details_name_every_field_path() -> None:
    with pytest.raises(RejectedByTarget) as caught:
        raise_for_response(response(400, STICKER_VALIDATION), "POST /v1/organizations/setup")
    problem = caught.value
    assert (problem.reason, problem.field) == ("VALIDATION_ERROR", "user.email")
    assert "user.email: Invalid email" in str(problem)
    assert "shippingLocations[1].address.province: Invalid US state" in str(problem)


def test_sticker_setup_error_is_retryable() -> None:
    body = {"error": "Internal Server Error", "message": "Failed to setup organization",
            "code": "SETUP_ERROR"}
    with pytest.raises(ServerError, match="SETUP_ERROR"):
        raise_for_response(response(500, body), "POST /v1/organizations/setup")
