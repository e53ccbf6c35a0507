"""``/_sandbox/*``: unauthenticated, un-rate-limited JSON for tests and demos."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable, Iterable

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from sandbox.admin_http import error_response as _error
from sandbox.admin_http import json_object as _json_object
from sandbox.faults import FaultError
from sandbox.state import SandboxState
from sandbox.stats import workspace_snapshot
from sandbox.sticker.api import STATS_KEY as STICKER_STATS_KEY
from sandbox.sticker.views import organization_inspection, request_inspection
from sandbox.sticky.store import WorkspaceData
from sandbox.sticky.views import (
    customer_inspection,
    event_inspection,
    pass_inspection,
    webhook_inspection,
)
from sandbox.webhook_admin import webhook_routes

PREFIX = "/_sandbox"


def inspection_routes(state: SandboxState) -> list[Route]:
    def dump(
        select: Callable[[WorkspaceData], Iterable[object]],
    ) -> Callable[[Request], Awaitable[JSONResponse]]:
        # async so it runs on the event loop, never concurrently with a request
        async def endpoint(request: Request) -> JSONResponse:
            workspaces = state.sticky_store.workspaces(request.query_params.get("workspace"))
            return JSONResponse({"data": [item for ws in workspaces for item in select(ws)]})

        return endpoint

    customers = dump(lambda ws: (customer_inspection(c) for c in ws.customers.values()))
    events = dump(lambda ws: (event_inspection(e) for e in ws.events))
    passes = dump(lambda ws: (pass_inspection(p) for p in ws.passes.values()))
    webhooks = dump(lambda ws: (webhook_inspection(w) for w in ws.webhooks.values()))

    async def stats(request: Request) -> JSONResponse:
        snapshot = workspace_snapshot(state.sticky.stats)
        snapshot["sticker"] = dataclasses.asdict(state.sticker.stats.entry(STICKER_STATS_KEY))
        return JSONResponse(snapshot)

    async def get_faults(request: Request) -> JSONResponse:
        return JSONResponse(state.faults.current.to_dict())

    async def set_faults(request: Request) -> JSONResponse:
        changes = await _json_object(request)
        if changes is None:
            return _error("invalid_json", "The request body must be a JSON object.")
        try:
            faults = state.faults.update(changes)
        except FaultError as exc:
            return _error("invalid_fault", str(exc), exc.field or None)
        return JSONResponse(faults.to_dict())

    async def reset(request: Request) -> JSONResponse:
        options = await _json_object(request)
        if options is None:
            return _error("invalid_json", "The request body must be a JSON object.")
        unknown = set(options) - {"faults"}
        if unknown:
            name = sorted(unknown)[0]
            return _error("unknown_parameter", f"Received unknown parameter: {name}.", name)
        reset_faults = options.get("faults", False)
        if not isinstance(reset_faults, bool):
            return _error("invalid_reset", "faults must be a boolean.", "faults")
        state.reset(faults=reset_faults)
        return JSONResponse(
            {
                "reset": True,
                "faults": state.faults.current.to_dict(),
                "webhook_settings": state.sticky_webhooks.settings.to_dict(),
            }
        )

    async def health(request: Request) -> JSONResponse:
        return JSONResponse({"ok": True})

    return [
        Route(f"{PREFIX}/customers", customers, methods=["GET"]),
        Route(f"{PREFIX}/events", events, methods=["GET"]),
        Route(f"{PREFIX}/passes", passes, methods=["GET"]),
        Route(f"{PREFIX}/webhooks", webhooks, methods=["GET"]),
        Route(f"{PREFIX}/stats", stats, methods=["GET"]),
        Route(f"{PREFIX}/faults", get_faults, methods=["GET"]),
        Route(f"{PREFIX}/faults", set_faults, methods=["POST"]),
        Route(f"{PREFIX}/reset", reset, methods=["POST"]),
        Route(f"{PREFIX}/health", health, methods=["GET"]),
        *webhook_routes(state),
        *_sticker_routes(state),
    ]


def _sticker_routes(state: SandboxState) -> list[Route]:
    async def organizations(request: Request) -> JSONResponse:
        wanted = request.query_params.get("internalOrgId")
        return JSONResponse(
            {
                "data": [
                    organization_inspection(o)
                    for o in state.sticker_store.organizations()
                    if wanted is None or o.internal_org_id == wanted
                ]
            }
        )

    async def sticker_requests(request: Request) -> JSONResponse:
        return JSONResponse({"data": [request_inspection(r) for r in state.sticker_store.requests]})

    return [
        Route(f"{PREFIX}/organizations", organizations, methods=["GET"]),
        Route(f"{PREFIX}/sticker/requests", sticker_requests, methods=["GET"]),
    ]
