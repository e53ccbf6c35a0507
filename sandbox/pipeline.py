"""The per-request pipeline shared by emulated APIs, as a raw ASGI app.

Order: auth -> workspace -> storm -> rate limit -> latency -> injected 5xx ->
drop (before) -> idempotency -> validation + processing -> drop (after).

Per API (see :class:`~sandbox.api.ApiDefinition`): the workspace step only runs when the
API has a workspace header, storm and injected 5xx only when ``error_faults`` is set,
idempotency only when ``idempotency`` is set. Error bodies come from ``render_error``.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Generic
from urllib.parse import parse_qsl

from starlette.types import Receive, Scope, Send

from sandbox.api import ApiDefinition, ApiRequest, ApiResult, canonical_body, parse_json
from sandbox.asgi import (
    ClientGone,
    drop_connection,
    encode_json,
    read_body,
    request_headers,
    send_json,
)
from sandbox.errors import API_ERROR, IDEMPOTENCY, RATE_LIMIT, ApiError, invalid
from sandbox.faults import FaultInjector
from sandbox.idempotency import MAX_KEY_LENGTH, Claim, StoredResponse, fingerprint
from sandbox.state import ApiRuntime
from sandbox.stats import S

MAX_BODY_BYTES = 1024 * 1024
_SERVER_ERROR_CODES = {500: "internal_error", 502: "bad_gateway", 503: "service_unavailable"}


@dataclass
class Reply:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


class _Drop:
    """Marker outcome: abandon the response."""


DROP = _Drop()


@dataclass
class _Incoming:
    method: str
    path: str
    query_string: bytes
    headers: dict[str, str]
    body: bytes
    too_large: bool
    workspace: str
    api_key: str = ""


class ApiPipeline(Generic[S]):
    """ASGI app serving one :class:`ApiDefinition` with sandbox behaviours."""

    def __init__(
        self, definition: ApiDefinition[S], runtime: ApiRuntime[S], faults: FaultInjector
    ) -> None:
        self.definition = definition
        header = definition.workspace_header
        self._workspace_key = header.lower() if header is not None else None
        self.runtime = runtime
        self.faults = faults

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # pragma: no cover - websockets are not routed here
            return
        headers = request_headers(scope)
        try:
            body, too_large = await read_body(receive, MAX_BODY_BYTES)
        except ClientGone:
            return  # nothing to answer, nothing processed or remembered
        if self._workspace_key is None:
            workspace = ""
            stats: S | None = self.runtime.stats.entry(self.definition.name)
        else:
            workspace = headers.get(self._workspace_key, "").strip()
            stats = self.runtime.stats.entry(workspace) if workspace else None
        incoming = _Incoming(
            scope["method"],
            scope["path"],
            scope["query_string"],
            headers,
            body,
            too_large,
            workspace,
        )
        if stats is not None:
            stats.requests += 1
        outcome = await self._run(incoming, stats)
        if isinstance(outcome, _Drop):
            if stats is not None:
                stats.dropped += 1
            await drop_connection(send)
            return
        if stats is not None:
            stats.record_status(outcome.status)
        await send_json(send, outcome.status, outcome.body, outcome.headers)

    def _error(self, error: ApiError) -> Reply:
        body = self.definition.render_error(error)
        return Reply(error.status, encode_json(body), dict(error.headers))

    async def _run(self, req: _Incoming, stats: S | None) -> Reply | _Drop:
        try:
            req.api_key = self.definition.authenticate(req.headers.get("authorization"))
        except ApiError as error:
            return self._error(error)
        if stats is None:
            header = self.definition.workspace_header
            return self._error(
                invalid("missing_workspace", f"The {header} header is required.", header)
            )
        limited = self._rate_limit(req, stats)
        if limited is not None:
            return limited

        key = self._idempotency_key(req)
        claim: Claim | None = None
        if key is not None and 0 < len(key) <= MAX_KEY_LENGTH:
            claim = self.runtime.idempotency.claim(req.workspace, key)
        try:
            delay = self.faults.latency_seconds()
            if self.definition.error_faults and req.method == "POST":
                delay += self.faults.slow_seconds_for(req.path, req.body)
            if delay > 0:
                await asyncio.sleep(delay)
            if self.definition.error_faults:
                status = self.faults.draw_server_error()
                if status is not None:
                    return self._error(_server_error(status))
            drop = self.faults.draw_drop()
            if drop == "before":
                return DROP
            reply = self._process(req, stats, key, claim)
            return DROP if drop == "after" else reply
        finally:
            if claim is not None:
                self.runtime.idempotency.release(claim)

    def _rate_limit(self, req: _Incoming, stats: S) -> Reply | None:
        if self.definition.error_faults and self.faults.storm_active(req.workspace):
            return self._error(_too_many(1))
        limiter = self.runtime.limiter
        if limiter is None:
            return None
        scope = req.workspace if self.definition.rate_scope == "workspace" else req.api_key
        decision = limiter.acquire(scope)
        if not decision.allowed:
            return self._error(_too_many(decision.retry_after))
        stats.record_window(decision.in_window)
        return None

    def _idempotency_key(self, req: _Incoming) -> str | None:
        if (
            not self.definition.idempotency
            or req.method != "POST"
            or self.faults.current.ignore_idempotency
        ):
            return None
        return req.headers.get("idempotency-key")

    def _process(self, req: _Incoming, stats: S, key: str | None, claim: Claim | None) -> Reply:
        if key is not None and claim is None:
            return self._error(
                invalid(
                    "invalid_idempotency_key",
                    f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} characters long.",
                )
            )
        if req.too_large:
            return self._error(
                invalid("request_too_large", "The request body is too large.", status=413)
            )
        parsed = parse_json(req.body) if req.method == "POST" else None
        fp = None
        if claim is not None:
            if claim.conflicted:
                return self._error(_key_in_use())
            fp = fingerprint(req.method, req.path, canonical_body(parsed, req.body))
            stored = self.runtime.idempotency.lookup(req.workspace, claim.key)
            if stored is not None:
                if stored.fingerprint != fp:
                    return self._error(_key_reused())
                stats.record_replay()
                return Reply(stored.status, stored.body, {"Idempotent-Replayed": "true"})

        if (self.definition.error_faults and req.path == "/v1/customers"
                and isinstance(parsed, dict)):
            if self.faults.refuses_phone(parsed.get("phone")):
                return self._error(invalid(
                    "phone_refused", "This phone number cannot receive messages.", "phone"))
            if self.faults.fails_phone(parsed.get("phone")):
                return self._error(_server_error(500))
        if (self.definition.error_faults and req.path == "/v1/events"
                and isinstance(parsed, dict) and self.faults.refuses_order(parsed)):
            return self._error(invalid(
                "event_refused", "This order cannot be recorded.", "amount_cents"))
        reply, storable = self._dispatch(req, stats, parsed, key)
        if claim is not None and fp is not None and storable:
            self.runtime.idempotency.store(
                req.workspace, claim.key, StoredResponse(fp, reply.status, reply.body)
            )
        return reply

    def _dispatch(
        self, req: _Incoming, stats: S, parsed: object, key: str | None
    ) -> tuple[Reply, bool]:
        """Route and run the handler; returns (reply, may be stored for idempotency)."""
        methods = self.definition.routes.get(req.path)
        if methods is None:
            error = invalid(
                "not_found", f"Unrecognized request URL ({req.method} {req.path}).", status=404
            )
            return self._error(error), True
        handler = methods.get(req.method)
        if handler is None:
            allowed = ", ".join(sorted(methods))
            error = invalid(
                "method_not_allowed",
                f"{req.method} is not allowed on {req.path}; use {allowed}.",
                status=405,
            )
            error.headers["Allow"] = allowed
            return self._error(error), False
        query = dict(parse_qsl(req.query_string.decode("latin-1"), keep_blank_values=True))
        request = ApiRequest(
            req.workspace,
            req.method,
            req.path,
            query,
            parsed,
            key,
            stats,
            api_key=req.api_key,
            headers=req.headers,
            raw_body=req.body,
        )
        try:
            result: ApiResult = handler(request)
        except ApiError as error:
            return self._error(error), error.status in (400, 404)
        status = result.status
        if status == 201 and self.definition.error_faults:
            status = self.faults.current.created_status  # Sticky: 201 or its documented 200
        return Reply(status, encode_json(result.body)), 200 <= status < 300


def _too_many(retry_after: int) -> ApiError:
    return ApiError(
        429,
        RATE_LIMIT,
        "rate_limited",
        "Too many requests for this workspace. Retry after the Retry-After delay.",
        headers={"Retry-After": str(retry_after)},
    )


def _server_error(status: int) -> ApiError:
    return ApiError(
        status,
        API_ERROR,
        _SERVER_ERROR_CODES[status],
        "The server could not handle the request (injected fault); it was not processed.",
    )


def _key_in_use() -> ApiError:
    return ApiError(
        409,
        IDEMPOTENCY,
        "idempotency_key_in_use",
        "A request with this Idempotency-Key is still being processed; retry later.",
    )


def _key_reused() -> ApiError:
    return ApiError(
        400,
        IDEMPOTENCY,
        "idempotency_key_reused",
        "This Idempotency-Key was already used with a different request (method, path or body).",
    )
