"""``/_sandbox/*`` routes for webhooks: event log, redelivery, delivery settings and the
triggers (tier, pass install/expiry, journey)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from sandbox.admin_http import (
    api_error_response,
    error_response,
    json_object,
    not_a_json_object,
)
from sandbox.errors import ApiError
from sandbox.state import SandboxState
from sandbox.sticky.delivery_settings import WebhookSettingError
from sandbox.sticky.triggers import Triggers
from sandbox.sticky.views import customer_inspection, pass_inspection, webhook_event_inspection
from sandbox.sticky.webhook_events import WebhookEvent

PREFIX = "/_sandbox"
Endpoint = Callable[[Request], Awaitable[JSONResponse]]
Action = Callable[[str, dict[str, object]], dict[str, object]]


def _event_id(event: WebhookEvent | None) -> str | None:
    return None if event is None else event.id


def _trigger(param: str, action: Action) -> Endpoint:
    """An endpoint running ``action(path id, JSON body)``; ApiErrors become error answers.
    async, so it runs on the event loop (where deliveries are scheduled)."""

    async def endpoint(request: Request) -> JSONResponse:
        body = await json_object(request)
        if body is None:
            return not_a_json_object()
        try:
            return JSONResponse(action(request.path_params[param], body))
        except ApiError as error:
            return api_error_response(error)

    return endpoint


def webhook_routes(state: SandboxState) -> list[Route]:
    dispatcher = state.sticky_webhooks
    triggers = Triggers(state.sticky_store, dispatcher)

    def set_tier(customer_id: str, body: dict[str, object]) -> dict[str, object]:
        customer, event = triggers.set_tier(customer_id, body)
        return {**customer_inspection(customer), "event_id": _event_id(event)}

    def enter_journey(customer_id: str, body: dict[str, object]) -> dict[str, object]:
        customer, journey, event = triggers.enter_journey(customer_id, body)
        return {**customer_inspection(customer), "journey": journey, "event_id": event.id}

    def install_pass(pass_id: str, body: dict[str, object]) -> dict[str, object]:
        installed, event = triggers.install_pass(pass_id, body)
        return {**pass_inspection(installed), "event_id": event.id}

    def expire_pass(pass_id: str, body: dict[str, object]) -> dict[str, object]:
        return pass_inspection(triggers.expire_pass(pass_id, body))

    async def events(request: Request) -> JSONResponse:
        found = dispatcher.events(request.query_params.get("workspace"))
        return JSONResponse({"data": [webhook_event_inspection(e) for e in found]})

    async def redeliver(request: Request) -> JSONResponse:
        event_id = request.path_params["event_id"]
        event = await dispatcher.redeliver(event_id)
        if event is None:
            return error_response(
                "webhook_event_not_found", f"No such webhook event: {event_id!r}.", status=404
            )
        return JSONResponse(webhook_event_inspection(event))

    async def get_settings(request: Request) -> JSONResponse:
        return JSONResponse(dispatcher.settings.to_dict())

    async def set_settings(request: Request) -> JSONResponse:
        changes = await json_object(request)
        if changes is None:
            return not_a_json_object()
        try:
            settings = dispatcher.update_settings(changes)
        except WebhookSettingError as exc:
            return error_response("invalid_webhook_setting", str(exc), exc.field)
        return JSONResponse(settings.to_dict())

    return [
        Route(f"{PREFIX}/webhook_events", events, methods=["GET"]),
        Route(f"{PREFIX}/webhook_events/{{event_id}}/redeliver", redeliver, methods=["POST"]),
        Route(f"{PREFIX}/webhooks/settings", get_settings, methods=["GET"]),
        Route(f"{PREFIX}/webhooks/settings", set_settings, methods=["POST"]),
        Route(
            f"{PREFIX}/customers/{{customer_id}}/tier",
            _trigger("customer_id", set_tier),
            methods=["POST"],
        ),
        Route(
            f"{PREFIX}/customers/{{customer_id}}/journeys",
            _trigger("customer_id", enter_journey),
            methods=["POST"],
        ),
        Route(
            f"{PREFIX}/passes/{{pass_id}}/install",
            _trigger("pass_id", install_pass),
            methods=["POST"],
        ),
        Route(
            f"{PREFIX}/passes/{{pass_id}}/expire",
            _trigger("pass_id", expire_pass),
            methods=["POST"],
        ),
    ]
