"""Sticker's error body: ``{"error", "message", "code"[, "details" | "data"]}``."""

from __future__ import annotations

from http import HTTPStatus

from sandbox.api import ApiResult
from sandbox.errors import AUTHENTICATION, ApiError

UNAUTHORIZED_MESSAGE = "Invalid or missing API key"

# Sticker wording for errors raised by the generic pipeline (keyed by its codes).
_PIPELINE_MESSAGES = {
    "rate_limited": "Too many requests. Retry after the number of seconds in Retry-After.",
    "request_too_large": "Request body too large",
}
_LABELS = {413: "Payload Too Large"}


def unauthorized() -> ApiError:
    return ApiError(401, AUTHENTICATION, "UNAUTHORIZED", UNAUTHORIZED_MESSAGE)


def label(status: int) -> str:
    """The ``error`` label: the HTTP reason phrase ("Unauthorized", "Not Found", ...)."""
    return _LABELS.get(status) or HTTPStatus(status).phrase


def render_error(error: ApiError) -> dict[str, object]:
    """Body of an error raised by the pipeline: codes in upper case, Sticker wording."""
    return {
        "error": label(error.status),
        "message": _PIPELINE_MESSAGES.get(error.code, error.message),
        "code": error.code.upper(),
    }


def error_result(status: int, code: str, message: str, **extra: object) -> ApiResult:
    return ApiResult(status, {"error": label(status), "message": message, "code": code, **extra})


def validation_error(details: list[dict[str, object]]) -> ApiResult:
    return ApiResult(
        400,
        {
            "error": "Validation Error",
            "message": "Invalid request body",
            "code": "VALIDATION_ERROR",
            "details": details,
        },
    )


def user_exists(profile_id: str, email: str) -> ApiResult:
    return ApiResult(
        409,
        {
            "error": "Conflict",
            "message": "User already exists in this organization",
            "code": "USER_ALREADY_EXISTS",
            "data": {"profileId": profile_id, "email": email},
        },
    )


def setup_error() -> ApiResult:
    return ApiResult(
        500,
        {
            "error": "Internal Server Error",
            "message": "Failed to setup organization",
            "code": "SETUP_ERROR",
        },
    )
