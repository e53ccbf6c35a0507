"""Application factory: Sticky under ``/v1``, Sticker under ``/sticker``, inspection under
``/_sandbox``."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount

from sandbox.asgi import install_drop_log_filter
from sandbox.config import SandboxConfig
from sandbox.errors import INVALID_REQUEST
from sandbox.inspection import inspection_routes
from sandbox.pipeline import ApiPipeline
from sandbox.state import SandboxState
from sandbox.sticker import PREFIX as STICKER_PREFIX
from sandbox.sticker import sticker_definition
from sandbox.sticky import PREFIX, sticky_definition


async def _http_error(request: Request, exc: Exception) -> Response:
    """JSON bodies for Starlette's own 404/405 (paths outside the emulated APIs)."""
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    code = {404: "not_found", 405: "method_not_allowed"}.get(status, "http_error")
    body = {
        "type": INVALID_REQUEST,
        "code": code,
        "message": f"{exc.detail if isinstance(exc, HTTPException) else 'Error'} "
        f"({request.method} {request.url.path}).",
        "param": None,
    }
    headers = exc.headers if isinstance(exc, HTTPException) else None
    return JSONResponse(body, status_code=status, headers=headers)


@contextlib.asynccontextmanager
async def _lifespan(app: Starlette) -> AsyncIterator[None]:
    """On shutdown: cancel webhook deliveries and close their HTTP client."""
    yield
    await get_state(app).sticky_webhooks.aclose()


def create_app(config: SandboxConfig | None = None) -> Starlette:
    config = config or SandboxConfig()
    state = SandboxState(config)
    install_drop_log_filter()
    sticky = ApiPipeline(
        sticky_definition(state.sticky_store, config.api_keys, state.sticky_webhooks),
        state.sticky,
        state.faults,
    )
    sticker = ApiPipeline(
        sticker_definition(state.sticker_store, config.sticker_api_keys, state.faults),
        state.sticker,
        state.faults,
    )
    app = Starlette(
        routes=[
            *inspection_routes(state),
            Mount(PREFIX, app=sticky),
            Mount(STICKER_PREFIX, app=sticker),
        ],
        exception_handlers={404: _http_error, 405: _http_error},
        lifespan=_lifespan,
    )
    app.state.sandbox = state
    return app


def get_state(app: Starlette) -> SandboxState:
    """The :class:`SandboxState` behind an app made by :func:`create_app`."""
    state = app.state.sandbox
    if not isinstance(state, SandboxState):  # pragma: no cover - defensive
        raise TypeError("not a sandbox app")
    return state
