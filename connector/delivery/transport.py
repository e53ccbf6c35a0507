"""An httpx transport wrapper that paces every attempt (retries included) through the
workspace's limiter and turns a 429's ``Retry-After`` into a pause for the whole
workspace. The client code above it never knows."""

from __future__ import annotations

import time
from functools import partial

from connector.delivery.limits import TurnLapsed, WorkspaceLimiters
from connector.delivery.traffic import Traffic
from connector.http.lib import httpx
from connector.http.retry_after import parse_retry_after
from connector.http.send_gate import SEND_GATE, runs_send_gate

WORKSPACE_HEADER = "Sticky-Workspace"
WORKSPACE_EXTENSION = "sticky_workspace"
"""A request extension naming the workspace, so the transport need not search the
headers for it (httpx's header look-ups are not cheap); the header is the fallback."""


class _Sent:
    """Where the send gate leaves the window stamp of the request it let out."""

    __slots__ = ("stamp",)

    def __init__(self) -> None:
        self.stamp: float | None = None


class PacedTransport(httpx.AsyncBaseTransport):
    def __init__(self, inner: httpx.AsyncBaseTransport, limiters: WorkspaceLimiters,
                 traffic: Traffic, *, lane: str | None = None) -> None:
        """``lane``: one limiter for every request (an API without workspaces);
        otherwise each ``Sticky-Workspace`` header value gets its own."""
        self._inner = inner
        self._limiters = limiters
        self._traffic = traffic
        self._lane = lane
        self._late_window = runs_send_gate(inner)
        """The rolling-window count is entered once the connection is ready, so a
        request that first opened one is counted when it leaves (send_gate.py)."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        workspace = self._lane
        if workspace is None:
            named = request.extensions.get(WORKSPACE_EXTENSION)
            workspace = named if isinstance(named, str) else request.headers.get(
                WORKSPACE_HEADER, "")
        if self._late_window:
            response = await self._send_gated(workspace, request)
        else:
            waited = await self._limiters.acquire(workspace)
            self._traffic.request_sent(workspace, waited)
            response = await self._inner.handle_async_request(request)
        if response.status_code == 429:
            self._traffic.of(workspace).rate_limited += 1
            delay = parse_retry_after(response.headers.get("Retry-After"))
            self._limiters.cool_down(workspace, 1.0 if delay is None else delay)
        elif response.status_code >= 500:
            self._traffic.of(workspace).server_errors += 1
        return response

    async def _send_gated(self, workspace: str, request: httpx.Request) -> httpx.Response:
        """Paced before the connection, counted in the window once it is ready; a turn
        that lapsed meanwhile (a 429 came) queues again, nothing sent. A late answer
        moves the request's window stamp (``WorkspaceLimiters.answered``)."""
        started = time.monotonic()
        while True:
            await self._limiters.acquire(workspace, window=False)
            sent = _Sent()
            token = SEND_GATE.set(partial(self._at_send, workspace, started, sent))
            try:
                response = await self._inner.handle_async_request(request)
            except TurnLapsed:
                continue
            finally:
                SEND_GATE.reset(token)
            if sent.stamp is not None:
                self._limiters.answered(workspace, sent.stamp, response.status_code)
            return response

    async def _at_send(self, workspace: str, started: float, sent: _Sent) -> None:
        sent.stamp = await self._limiters.enter_window(workspace)
        self._traffic.request_sent(workspace, time.monotonic() - started)

    async def aclose(self) -> None:
        await self._inner.aclose()
