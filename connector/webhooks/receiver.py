"""The webhook receiver: ``POST <route>`` with the workspace in the path.

Order: size limit → signing secret of the workspace → signature and clock
(:mod:`connector.webhooks.signature`) → a JSON object with an ``id`` and a ``type`` (and,
when given, the path's workspace) → stored once in the state DB's inbox → 200. Nothing
is applied here: the processor applies stored events afterwards, so the answer is fast
and a crash after the 200 loses nothing.

Answers: 200 stored (or already stored: a retried delivery); 400 refused (bad or stale
signature, malformed event; nothing stored, nothing changed); 404 a workspace that is not
configured; 413 too large; 503 when it
cannot be stored or verified right now (no secret configured yet, state DB unavailable):
Sticky retries those.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import structlog
from sqlalchemy.exc import SQLAlchemyError
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from connector.config import WebhookSettings
from connector.errors import WebhookRefused
from connector.mapping.timestamps import parse_iso_utc
from connector.sync.state_thread import off_loop
from connector.webhooks.secrets import SecretBook
from connector.webhooks.signature import HEADER, TIMESTAMP_HEADER, verify
from state import StateStore

log = structlog.get_logger("connector.webhooks")

MAX_DEPTH = 32
"""A webhook body nesting deeper than this is refused (an event is a few levels deep)."""


@dataclass(frozen=True, slots=True)
class IncomingEvent:
    workspace: str
    event_id: str
    type: str
    body: dict[str, Any]
    created_at: datetime | None


def read_event(workspace: str, raw: bytes, header_workspace: str | None,
               header_event_id: str | None = None) -> IncomingEvent:
    """The verified body as an event; :class:`WebhookRefused` naming what is wrong.

    The id is the body's ``id``, else the ``Sticky-Event-Id`` header; the type is the
    body's ``type``, else its ``event`` (the doc shows no body: both spellings occur in
    the wild). The time is ``created_at`` (or ``created``, ISO-8601 or unix seconds)."""
    try:
        body = json.loads(raw)
    except ValueError as exc:
        raise WebhookRefused("malformed_event", "the body is not JSON") from exc
    except RecursionError as exc:
        raise WebhookRefused("malformed_event", f"the body nests deeper than "
                             f"{MAX_DEPTH} levels") from exc
    if _depth(body) > MAX_DEPTH:
        raise WebhookRefused("malformed_event", f"the body nests deeper than {MAX_DEPTH} "
                             "levels")
    if not isinstance(body, dict):
        raise WebhookRefused("malformed_event", "the body is not a JSON object")
    event_id = body.get("id") if isinstance(body.get("id"), str) else header_event_id
    event_type = body.get("type") if isinstance(body.get("type"), str) else body.get("event")
    if not isinstance(event_id, str) or not event_id or len(event_id) > 100:
        raise WebhookRefused("malformed_event", "id: missing (no id in the body nor a "
                             "Sticky-Event-Id header) or not a string of 1-100")
    if not isinstance(event_type, str) or not event_type or len(event_type) > 64:
        raise WebhookRefused("malformed_event", f"event {event_id}: type is missing")
    for claimed in (body.get("workspace"), header_workspace):
        if claimed is not None and claimed != workspace:
            raise WebhookRefused("wrong_workspace", f"event {event_id} is for workspace "
                                 f"{claimed!r}, delivered to {workspace!r}")
    return IncomingEvent(workspace, event_id, event_type, body, _created_at(body))


def _depth(document: Any) -> int:
    """How deep ``document`` nests (iteratively: a deep one must not exhaust the stack)."""
    deepest = 0
    todo: list[tuple[Any, int]] = [(document, 1)]
    while todo:
        value, level = todo.pop()
        if isinstance(value, dict | list):
            deepest = max(deepest, level)
            if level > MAX_DEPTH:
                return level
            items = value.values() if isinstance(value, dict) else value
            todo.extend((item, level + 1) for item in items)
    return deepest


def _created_at(body: dict[str, Any]) -> datetime | None:
    value = body.get("created_at", body.get("created"))
    if isinstance(value, str):
        return parse_iso_utc(value)
    if isinstance(value, int | float) and not isinstance(value, bool) and 0 < value < 10**11:
        return datetime.fromtimestamp(value, UTC)
    return None


class Receiver:
    def __init__(self, settings: WebhookSettings, store: StateStore, secrets: SecretBook,
                 workspaces: Collection[str],
                 on_stored: Callable[[], None] | None = None,
                 on_outcome: Callable[[str, str], None] | None = None) -> None:
        """``workspaces``: the configured ones; a path naming another is answered 404
        (and counted under workspace ``-``, so strangers cannot grow the metrics)."""
        self.settings = settings
        self.workspaces = frozenset(workspaces)
        self.store = store
        self.secrets = secrets
        self.on_stored = on_stored
        self.on_outcome = on_outcome

    def routes(self) -> list[Route]:
        return [Route(self.settings.route, self.endpoint, methods=["POST"])]

    async def endpoint(self, request: Request) -> JSONResponse:
        workspace = str(request.path_params.get("workspace", ""))
        if workspace not in self.workspaces:
            return self._answer("-", "unknown_workspace", 404, {"error": "unknown_workspace"})
        try:
            raw = await self._body(request)
        except ClientDisconnect:
            return self._answer(workspace, "disconnected", 400, {"error": "disconnected"})
        if raw is None:
            return self._answer(workspace, "too_large", 413, {"error": "too_large"})
        secret = self.secrets.secret(workspace)
        if secret is None:
            self.secrets.reload()  # `webhooks subscribe` may just have written it
            secret = self.secrets.secret(workspace)
        if secret is None:
            log.error("webhook for a workspace without a signing secret", workspace=workspace,
                      hint=f"run `sticky-sync webhooks subscribe` or set "
                      f"{WebhookSettings.secret_env(workspace)}")
            return self._answer(workspace, "no_secret", 503, {"error": "not_ready"})
        try:
            verify([secret], request.headers.get(HEADER), raw,
                   tolerance=self.settings.tolerance_seconds,
                   timestamp_header=request.headers.get(TIMESTAMP_HEADER))
            event = read_event(workspace, raw, request.headers.get("sticky-workspace"),
                               request.headers.get("sticky-event-id"))
        except WebhookRefused as refused:
            log.warning("webhook refused", workspace=workspace, reason=refused.reason,
                        error=str(refused))
            return self._answer(workspace, refused.reason, 400,
                                {"error": refused.reason, "message": str(refused)})
        try:
            new = await off_loop(self.store.webhooks.store_event, event.workspace,
                                          event.event_id, event.type, event.body,
                                          event.created_at)
        except SQLAlchemyError as exc:
            log.error("webhook not stored", workspace=workspace, event_id=event.event_id,
                      error=type(exc).__name__)
            return self._answer(workspace, "store_failed", 503, {"error": "not_stored"})
        if new and self.on_stored is not None:
            self.on_stored()
        log.info("webhook stored" if new else "webhook repeated", workspace=workspace,
                 event_id=event.event_id, type=event.type)
        return self._answer(workspace, "stored" if new else "duplicate", 200,
                            {"received": True, "duplicate": not new})

    async def _body(self, request: Request) -> bytes | None:
        """The body, or None once it exceeds the limit (not read any further)."""
        limit = self.settings.max_body_bytes
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            return None
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                return None
            chunks.append(chunk)
        return b"".join(chunks)

    def _answer(self, workspace: str, outcome: str, status: int,
                body: dict[str, Any]) -> JSONResponse:
        if self.on_outcome is not None:
            self.on_outcome(workspace, outcome)
        return JSONResponse(body, status_code=status)
