"""An httpx transport over aiohttp: the httpx API above, aiohttp's cheaper HTTP/1.1 client
below.

Measured in ``bench/http_clients.py``: httpx2 on its own transport spends about twice the
CPU per request of httpx2 on this one. The body is read whole inside the transport (our
targets answer small JSON documents), so a response cut off mid-body fails here, as an
httpx :class:`~httpx.ReadError`, like every other network failure: the callers only ever
see httpx's exception classes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import aiohttp
from aiohttp.connector import Connection
from multidict import CIMultiDict
from yarl import URL

from connector.http.lib import httpx
from connector.http.send_gate import SEND_GATE

_HTTP11 = b"HTTP/1.1"

# Most specific first: the first class an error is an instance of decides.
_ERRORS: tuple[tuple[type[BaseException], type[httpx.TransportError]], ...] = (
    (aiohttp.ConnectionTimeoutError, httpx.ConnectTimeout),
    (aiohttp.ServerTimeoutError, httpx.ReadTimeout),
    (aiohttp.ClientConnectorError, httpx.ConnectError),
    (aiohttp.ClientPayloadError, httpx.ReadError),
    (aiohttp.ServerDisconnectedError, httpx.RemoteProtocolError),
    (aiohttp.ClientResponseError, httpx.RemoteProtocolError),
    (aiohttp.InvalidURL, httpx.UnsupportedProtocol),
    (aiohttp.ClientConnectionError, httpx.ReadError),
    (aiohttp.ClientError, httpx.TransportError),
    (TimeoutError, httpx.PoolTimeout),
)


def _as_httpx(exc: BaseException, request: httpx.Request) -> httpx.TransportError:
    for source, target in _ERRORS:
        if isinstance(exc, source):
            return target(str(exc) or type(exc).__name__, request=request)
    raise AssertionError(f"unmapped: {exc!r}")  # pragma: no cover - _ERRORS is total


def _headers(headers: httpx.Headers) -> CIMultiDict[str]:
    """The request's headers for aiohttp: from the raw bytes (httpx's ``items()`` works
    out the encoding again on every call), as httpx would decode them."""
    try:
        return CIMultiDict([(key.decode("ascii"), value.decode("ascii"))
                            for key, value in headers.raw])
    except UnicodeDecodeError:
        return CIMultiDict(headers.multi_items())


def read_response(status: int, headers: Sequence[tuple[bytes, bytes]], body: bytes,
                  request: httpx.Request, extensions: dict[str, Any]) -> httpx.Response:
    """The :class:`httpx.Response` for a body read whole, as ``httpx.Response(status,
    headers=..., content=body)`` gives it. Without a ``Content-Encoding`` the body is the
    content as it is: it is set as read instead of passing through httpx's decoder chain,
    which with the rest of that constructor cost about a tenth of the event loop's time
    per request."""
    if any(key.lower() == b"content-encoding" for key, _ in headers):
        return httpx.Response(status, headers=headers, content=body, request=request,
                              extensions=extensions)
    response = httpx.Response(status, headers=headers, stream=httpx.ByteStream(body),
                              request=request, extensions=extensions)
    response._content = body  # what read() would set; tests/delivery pins the equivalence
    response.is_stream_consumed = response.is_closed = True
    return response


class _GatedConnector(aiohttp.TCPConnector):
    """Runs the caller's :data:`SEND_GATE` once the request has its connection (pooled
    or new), before aiohttp writes it."""

    async def connect(self, req: aiohttp.ClientRequest, traces: list[Any],
                      timeout: aiohttp.ClientTimeout) -> Connection:
        connection = await super().connect(req, traces, timeout)
        gate = SEND_GATE.get()
        if gate is not None:
            try:
                await gate()
            except BaseException:
                connection.release()  # unused: back to the pool
                raise
        return connection


class AiohttpTransport(httpx.AsyncBaseTransport):
    """Sends an :class:`httpx.Request` with one ``aiohttp.ClientSession`` (created on the
    first request, inside the running loop) and returns an :class:`httpx.Response` whose
    body is already read."""

    runs_send_gate = True
    """See ``connector/http/send_gate.py``."""

    def __init__(self, *, max_connections: int = 64, keepalive_expiry: float = 60.0) -> None:
        self._max_connections = max_connections
        self._keepalive_expiry = keepalive_expiry
        self._session: aiohttp.ClientSession | None = None
        self._closed = False
        self._timeouts: dict[tuple[Any, Any], aiohttp.ClientTimeout] = {}

    def _open(self) -> aiohttp.ClientSession:
        if self._closed:
            # a late request (a retry waking after shutdown) would open a session that
            # nobody closes: refused as httpx refuses a closed client
            raise RuntimeError("Cannot send a request, as the transport has been closed.")
        connector = _GatedConnector(limit=self._max_connections,
                                         keepalive_timeout=self._keepalive_expiry)
        # No cookie jar (a stateless API), no decompression here: httpx decodes the body
        # by its Content-Encoding as it would on its own transport.
        self._session = aiohttp.ClientSession(
            connector=connector, cookie_jar=aiohttp.DummyCookieJar(),
            auto_decompress=False, timeout=aiohttp.ClientTimeout(total=None))
        return self._session

    def _timeout(self, request: httpx.Request) -> aiohttp.ClientTimeout:
        given = request.extensions.get("timeout") or {}
        key = (given.get("connect"), given.get("read"))
        timeout = self._timeouts.get(key)
        if timeout is None:
            timeout = self._timeouts[key] = aiohttp.ClientTimeout(
                total=None, sock_connect=key[0], sock_read=key[1])
        return timeout

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        session = self._session or self._open()
        content = request.content  # requests built by AsyncClient are read (bytes bodies)
        try:
            async with session.request(
                    request.method, URL(str(request.url), encoded=True),
                    headers=_headers(request.headers),
                    data=content or None, allow_redirects=False,
                    timeout=self._timeout(request)) as answer:
                body = await answer.read()
                status, headers, reason = answer.status, answer.raw_headers, answer.reason
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise _as_httpx(exc, request) from exc
        extensions: dict[str, Any] = {"http_version": _HTTP11}
        if reason:
            extensions["reason_phrase"] = reason.encode("ascii", "replace")
        try:
            return read_response(status, headers, body, request, extensions)
        except httpx.DecodingError as exc:
            # a body that does not decode by its Content-Encoding arrived broken, as a
            # body cut short does: a network failure (retried), not a crash
            raise httpx.ReadError(f"undecodable body: {exc}", request=request) from exc

    async def aclose(self) -> None:
        self._closed = True
        session, self._session = self._session, None
        if session is not None:
            await session.close()
