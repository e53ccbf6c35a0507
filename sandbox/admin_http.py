"""HTTP helpers of the ``/_sandbox/*`` endpoints: JSON bodies and error answers."""

from __future__ import annotations

import json

from starlette.requests import Request
from starlette.responses import JSONResponse

from sandbox.errors import INVALID_REQUEST, ApiError


def error_response(
    code: str, message: str, param: str | None = None, status: int = 400
) -> JSONResponse:
    """Sticky's flat error shape ``{"type", "code", "message", "param"}``."""
    body = {"type": INVALID_REQUEST, "code": code, "message": message, "param": param}
    return JSONResponse(body, status_code=status)


def api_error_response(error: ApiError) -> JSONResponse:
    return JSONResponse(error.body(), status_code=error.status)


async def json_object(request: Request) -> dict[str, object] | None:
    """The body as an object ({} when empty), or None when it is not a JSON object."""
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def not_a_json_object() -> JSONResponse:
    return error_response("invalid_json", "The request body must be a JSON object.")
