"""The Sticky API client: the only code that knows Sticky's paths and headers."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import structlog
from pydantic import SecretStr

from connector.delivery.limits import WorkspaceLimiters, WorkspacePace
from connector.delivery.traffic import Traffic
from connector.delivery.transport import WORKSPACE_EXTENSION, WORKSPACE_HEADER, PacedTransport
from connector.errors import NetworkError, RateLimited, Retryable, ServerError
from connector.http.lib import async_transport, httpx
from connector.http.responses import raise_for_response, transport_errors
from connector.http.retry import AttemptLog, RetryPolicy, call_with_retry

logger = structlog.get_logger("connector.delivery")


@dataclass(frozen=True, slots=True)
class Delivered:
    remote_id: str | None
    status: int
    attempts: int
    replayed: bool
    body: dict[str, Any] = field(default_factory=dict)
    """The response body (a JSON object)."""


BeforeAttempt = Callable[[], Awaitable[None]]
_WORKSPACE = WORKSPACE_HEADER.encode("ascii")
_IDEMPOTENCY_KEY = b"Idempotency-Key"


@dataclass(frozen=True, slots=True)
class StickyEndpoint:
    base_url: str
    api_key: SecretStr
    timeout_seconds: float = 15.0
    max_connections: int = 64


class StickyClient:
    """Sends one payload per call, paced per workspace and retried per ``policy``."""

    def __init__(self, endpoint: StickyEndpoint, pace: WorkspacePace, policy: RetryPolicy,
                 traffic: Traffic | None = None,
                 inner_transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.traffic = traffic or Traffic()
        self.policy = policy
        self.limiters = WorkspaceLimiters(pace)
        inner = inner_transport or async_transport(
            max_connections=endpoint.max_connections, keepalive_expiry=60.0)
        self.base_url = endpoint.base_url
        """Where requests go (``sticky.base_url``), named when it cannot be reached."""
        self._transport = PacedTransport(inner, self.limiters, self.traffic)
        self._http = httpx.AsyncClient(
            base_url=endpoint.base_url,
            transport=self._transport,
            timeout=httpx.Timeout(endpoint.timeout_seconds, pool=None),
            headers={"Authorization": f"Bearer {endpoint.api_key.get_secret_value()}",
                     "User-Agent": "sticky-sync/0.1"},
        )
        # What every POST shares, worked out once per path (building each request
        # through AsyncClient.post re-parsed the URL and re-merged and re-searched the
        # headers: a third of the client's CPU per request). Sticky sets no cookies, so
        # none are kept.
        self._timeout = self._http.timeout.as_dict()
        self._posts: dict[str, tuple[httpx.URL, list[tuple[bytes, bytes]]]] = {}

    async def __aenter__(self) -> StickyClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        try:
            await self._http.aclose()
        finally:
            if self.limiters.budget is not None:
                await self.limiters.budget.aclose()

    async def create_customer(self, workspace: str, payload: dict[str, Any],
                              idempotency_key: str, *,
                              before_attempt: BeforeAttempt | None = None) -> Delivered:
        return await self._post("/v1/customers", workspace, payload, idempotency_key,
                                before_attempt=before_attempt)

    async def create_event(self, workspace: str, payload: dict[str, Any],
                           idempotency_key: str, *,
                           before_attempt: BeforeAttempt | None = None) -> Delivered:
        return await self._post("/v1/events", workspace, payload, idempotency_key,
                                before_attempt=before_attempt)

    async def mint_pass(self, workspace: str, customer_id: str,
                        idempotency_key: str) -> Delivered:
        """``POST /v1/passes``: the body holds the single-use install links."""
        return await self._post("/v1/passes", workspace, {"customer_id": customer_id},
                                idempotency_key)

    async def subscribe_webhook(self, workspace: str, url: str, events: list[str],
                                idempotency_key: str) -> Delivered:
        """``POST /v1/webhooks``: the body holds the subscription (and its secret). The
        doc shows no response, so an answer without an id is accepted (``remote_id``
        None)."""
        return await self._post("/v1/webhooks", workspace, {"url": url, "events": events},
                                idempotency_key, require_id=False)

    async def check_access(self, workspace: str) -> None:
        """One cheap authenticated read; raises AuthenticationFailed / NetworkError..."""
        what = f"GET /v1/customers [{workspace}]"

        async def send() -> None:
            with transport_errors(what):
                response = await self._http.get(
                    "/v1/customers", params={"limit": 1},
                    headers={WORKSPACE_HEADER: workspace})
            raise_for_response(response, what)

        await call_with_retry(send, RetryPolicy(max_attempts=2, budget_seconds=20))

    async def _post(self, path: str, workspace: str, payload: dict[str, Any],
                    idempotency_key: str, *, require_id: bool = True,
                    before_attempt: BeforeAttempt | None = None) -> Delivered:
        """``before_attempt`` runs before every attempt, retries included (the source's
        lease is checked there: a holder that lost it sends nothing more)."""
        what = f"POST {path} [{workspace}]"
        request = self._post_request(path, workspace, payload, idempotency_key)
        log = AttemptLog()

        async def send() -> Delivered:
            if before_attempt is not None:
                await before_attempt()
            try:
                with transport_errors(what):
                    response = await self._send(request)
            except NetworkError:
                # Counted here, not in the transport: a response cut off mid-body fails
                # while the client reads it, after the transport has returned.
                self.traffic.of(workspace).network_errors += 1
                raise
            raise_for_response(response, what)
            body = _read_body(response)
            remote_id = body.get("id")
            if not isinstance(remote_id, str) or not remote_id:
                if require_id:
                    raise ServerError(f"{what}: {response.status_code} without an id in the "
                                      "body", status=response.status_code)
                remote_id = None
            return Delivered(remote_id=remote_id, status=response.status_code,
                             attempts=log.attempts,
                             replayed=response.headers.get("Idempotent-Replayed") == "true",
                             body=body)

        return await call_with_retry(send, self.policy, log, on_retry=_say_retry)

    async def _send(self, request: httpx.Request) -> httpx.Response:
        """What ``self._http.send(request)`` does for a request of ``_post_request``,
        without the client's layers none of them uses (auth flows, redirects, cookies,
        event hooks): about a tenth of the client's CPU per request
        (``bench/http_clients.py``). Its headers, URL and timeouts are the client's."""
        if self._http.is_closed:
            raise RuntimeError("Cannot send a request, as the client has been closed.")
        response = await self._transport.handle_async_request(request)
        response.request = request
        try:
            await response.aread()
        except BaseException:
            await response.aclose()
            raise
        return response

    def _post_request(self, path: str, workspace: str, payload: dict[str, Any],
                      idempotency_key: str) -> httpx.Request:
        """What ``self._http.post(path, json=payload, headers=...)`` would send: the
        same URL, headers and body (JSON encoded as httpx encodes it)."""
        known = self._posts.get(path)
        if known is None:
            template = self._http.build_request("POST", path, json={})
            known = self._posts[path] = (template.url, [
                (key, value) for key, value in template.headers.raw
                if key.lower() != b"content-length"])
        url, headers = known
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":"),
                          allow_nan=False).encode()
        request = httpx.Request(
            "POST", url, stream=httpx.ByteStream(body),
            headers=[*headers, (b"Content-Length", str(len(body)).encode("ascii")),
                     (_WORKSPACE, workspace.encode("ascii")),
                     (_IDEMPOTENCY_KEY, idempotency_key.encode("ascii"))],
            extensions={"timeout": self._timeout, WORKSPACE_EXTENSION: workspace})
        request.read()
        return request


def _say_retry(exc: Retryable, wait: float) -> None:
    """A failed attempt is said (a 429 is pacing, not a failure: not logged), so an
    unreachable target is not minutes of silence."""
    if not isinstance(exc, RateLimited):
        logger.warning("Sticky request failed; retrying", error=str(exc),
                       wait_seconds=round(wait, 2))


def _read_body(response: httpx.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}
