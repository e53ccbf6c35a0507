"""The per-request pipeline shared by emulated APIs, as a raw ASGI app.

Order: auth -> workspace -> storm -> rate limit -> latency -> injected 5xx ->
drop (before) -> idempotency -> validation + processing -> drop (after).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

from starlette.types import Receive, Scope, Send

from sandbox.api import ApiDefinition, ApiRequest, ApiResult, canonical_body, parse_json
from sandbox.asgi import drop_connection, encode_json, read_body, request_headers, send_json
from sandbox.errors import API_ERROR, IDEMPOTENCY, RATE_LIMIT, ApiError, invalid
from sandbox.faults import FaultInjector
from sandbox.idempotency import MAX_KEY_LENGTH, Claim, StoredResponse, fingerprint
from sandbox.state import ApiRuntime
from sandbox.stats import WorkspaceStats

MAX_BODY_BYTES = 1024 * 1024
_SERVER_ERROR_CODES = {500: "internal_error", 502: "bad_gateway", 503: "service_unavailable"}


@dataclass
class Reply:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of_error(cls, error: ApiError) -> Reply:
        return cls(error.status, encode_json(error.body()), dict(error.headers))


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


class ApiPipeline:
    """ASGI app serving one :class:`ApiDefinition` with sandbox behaviours."""

    def __init__(
        self, definition: ApiDefinition, runtime: ApiRuntime, faults: FaultInjector
    ) -> None:
        self.definition = definition
        self._workspace_key = definition.workspace_header.lower()
        self.runtime = runtime
        self.faults = faults

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # pragma: no cover - websockets are not routed here
            return
        headers = request_headers(scope)
        body, too_large = await read_body(receive, MAX_BODY_BYTES)
        workspace = headers.get(self._workspace_key, "").strip()
        incoming = _Incoming(
            scope["method"],
            scope["path"],
            scope["query_string"],
            headers,
            body,
            too_large,
            workspace,
        )
        stats = self.runtime.stats.workspace(workspace) if workspace else None
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

    async def _run(self, req: _Incoming, stats: WorkspaceStats | None) -> Reply | _Drop:
        try:
            self.definition.authenticate(req.headers.get("authorization"))
        except ApiError as error:
            return Reply.of_error(error)
        if stats is None:
            header = self.definition.workspace_header
            return Reply.of_error(
                invalid("missing_workspace", f"The {header} header is required.", header)
            )
        limited = self._rate_limit(req.workspace, stats)
        if limited is not None:
            return limited

        key = self._idempotency_key(req)
        claim: Claim | None = None
        if key is not None and 0 < len(key) <= MAX_KEY_LENGTH:
            claim = self.runtime.idempotency.claim(req.workspace, key)
        try:
            delay = self.faults.latency_seconds()
            if delay > 0:
                await asyncio.sleep(delay)
            status = self.faults.draw_server_error()
            if status is not None:
                return _server_error(status)
            drop = self.faults.draw_drop()
            if drop == "before":
                return DROP
            reply = self._process(req, stats, key, claim)
            return DROP if drop == "after" else reply
        finally:
            if claim is not None:
                self.runtime.idempotency.release(claim)

    def _rate_limit(self, workspace: str, stats: WorkspaceStats) -> Reply | None:
        if self.faults.storm_active(workspace):
            return _too_many(1)
        limiter = self.runtime.limiter
        if limiter is None:
            return None
        decision = limiter.acquire(workspace)
        if not decision.allowed:
            return _too_many(decision.retry_after)
        stats.peak_window = max(stats.peak_window, decision.in_window)
        return None

    def _idempotency_key(self, req: _Incoming) -> str | None:
        if req.method != "POST" or self.faults.current.ignore_idempotency:
            return None
        return req.headers.get("idempotency-key")

    def _process(
        self, req: _Incoming, stats: WorkspaceStats, key: str | None, claim: Claim | None
    ) -> Reply:
        if key is not None and claim is None:
            return Reply.of_error(
                invalid(
                    "invalid_idempotency_key",
                    f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} characters long.",
                )
            )
        if req.too_large:
            return Reply.of_error(
                invalid("request_too_large", "The request body is too large.", status=413)
            )
        parsed = parse_json(req.body) if req.method == "POST" else None
        fp = None
        if claim is not None:
            if claim.conflicted:
                return Reply.of_error(_key_in_use())
            fp = fingerprint(req.method, req.path, canonical_body(parsed, req.body))
            stored = self.runtime.idempotency.lookup(req.workspace, claim.key)
            if stored is not None:
                if stored.fingerprint != fp:
                    return Reply.of_error(_key_reused())
                stats.idempotent_replays += 1
                return Reply(stored.status, stored.body, {"Idempotent-Replayed": "true"})

        reply, storable = self._dispatch(req, stats, parsed, key)
        if claim is not None and fp is not None and storable:
            self.runtime.idempotency.store(
                req.workspace, claim.key, StoredResponse(fp, reply.status, reply.body)
            )
        return reply

    def _dispatch(
        self, req: _Incoming, stats: WorkspaceStats, parsed: object, key: str | None
    ) -> tuple[Reply, bool]:
        """Route and run the handler; returns (reply, may be stored for idempotency)."""
        methods = self.definition.routes.get(req.path)
        if methods is None:
            error = invalid(
                "not_found", f"Unrecognized request URL ({req.method} {req.path}).", status=404
            )
            return Reply.of_error(error), True
        handler = methods.get(req.method)
        if handler is None:
            allowed = ", ".join(sorted(methods))
            error = invalid(
                "method_not_allowed",
                f"{req.method} is not allowed on {req.path}; use {allowed}.",
                status=405,
            )
            error.headers["Allow"] = allowed
            return Reply.of_error(error), False
        query = dict(parse_qsl(req.query_string.decode("latin-1"), keep_blank_values=True))
        request = ApiRequest(req.workspace, req.method, req.path, query, parsed, key, stats)
        try:
            result: ApiResult = handler(request)
        except ApiError as error:
            return Reply.of_error(error), error.status in (400, 404)
        return Reply(result.status, encode_json(result.body)), 200 <= result.status < 300


def _too_many(retry_after: int) -> Reply:
    error = ApiError(
        429,
        RATE_LIMIT,
        "rate_limited",
        "Too many requests for this workspace. Retry after the Retry-After delay.",
        headers={"Retry-After": str(retry_after)},
    )
    return Reply.of_error(error)


def _server_error(status: int) -> Reply:
    error = ApiError(
        status,
        API_ERROR,
        _SERVER_ERROR_CODES[status],
        "The server could not handle the request (injected fault); it was not processed.",
    )
    return Reply.of_error(error)


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
