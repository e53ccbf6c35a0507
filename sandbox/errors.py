"""Flat JSON API errors: ``{"type", "code", "message", "param"}``."""

from __future__ import annotations

INVALID_REQUEST = "invalid_request_error"
AUTHENTICATION = "authentication_error"
IDEMPOTENCY = "idempotency_error"
RATE_LIMIT = "rate_limit_error"
API_ERROR = "api_error"


class ApiError(Exception):
    """An error response; raised by handlers, rendered by the pipeline."""

    def __init__(
        self,
        status: int,
        type_: str,
        code: str,
        message: str,
        param: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.type = type_
        self.code = code
        self.message = message
        self.param = param
        self.headers = headers or {}

    def body(self) -> dict[str, object]:
        return {"type": self.type, "code": self.code, "message": self.message, "param": self.param}


def invalid(code: str, message: str, param: str | None = None, status: int = 400) -> ApiError:
    """A validation (or not-found) error of type ``invalid_request_error``."""
    return ApiError(status, INVALID_REQUEST, code, message, param)
