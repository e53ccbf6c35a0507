"""What every POS fake shares: the lock, the clock, the request log, fault switches, and
the plumbing that turns a plain handler into a Starlette endpoint.

Handlers are synchronous and run entirely under :attr:`PosFake.lock` (in the threadpool),
so a test thread can change data or faults at any moment and every request sees one
consistent snapshot.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import threading
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

HTML_ERROR_PAGE = """<!DOCTYPE html>
<html>
<head><title>{status} {reason}</title></head>
<body>
<center><h1>{status} {reason}</h1></center>
<hr><center>nginx</center>
<p>Request ID: {request_id}</p>
</body>
</html>
"""
REASONS = {
    200: "OK",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}
# Request headers the log leaves out: transport noise, not what an adapter chose to send.
_UNLOGGED_HEADERS = frozenset(
    {"host", "content-length", "connection", "accept-encoding", "user-agent"}
)


class RecordedRequest(NamedTuple):
    """One request as the fake received it (unpacks as ``method, path, query, headers``)."""

    method: str
    path: str
    """The URL path, percent-decoded (``/v2.0/dispensary/x/customer/lastUpdated/...``)."""
    query: dict[str, str]
    """Query parameters (the last value wins when a name repeats)."""
    headers: dict[str, str]
    """Request headers with lower-case names, minus host/content-length/connection/
    accept-encoding/user-agent."""


class HttpError(Exception):
    """Raised by a handler: answer ``status`` with the JSON ``body`` (and ``headers``)."""

    def __init__(self, status: int, body: Any, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(f"HTTP {status}: {body!r}")
        self.status = status
        self.body = body
        self.headers = dict(headers or {})


@dataclass(frozen=True)
class Call:
    """What a handler sees of one request."""

    method: str
    path: str
    path_params: dict[str, str]
    query: dict[str, str]
    headers: Headers
    form: dict[str, str]
    base_url: str
    """``http://127.0.0.1:<port>`` as the client addressed the fake."""
    body: bytes = b""
    query_list: list[tuple[str, str]] = field(default_factory=list)


Handler = Callable[[Call], Response]


class Clock:
    """The fakes' notion of now (always timezone-aware UTC).

    Real time by default; ``Clock(start)`` is a manual clock that only moves with
    :meth:`advance` / :meth:`set`. :meth:`advance` also works on the real clock (it adds an
    offset), which is how tests expire tokens without sleeping.
    """

    def __init__(self, start: datetime | None = None) -> None:
        self._fixed = _aware(start) if start is not None else None
        self._offset = timedelta(0)

    def now(self) -> datetime:
        base = self._fixed if self._fixed is not None else datetime.now(UTC)
        return base + self._offset

    def advance(
        self, seconds: float = 0, *, minutes: float = 0, hours: float = 0, days: float = 0
    ) -> datetime:
        self._offset += timedelta(seconds=seconds, minutes=minutes, hours=hours, days=days)
        return self.now()

    def set(self, now: datetime) -> None:
        self._fixed = _aware(now)
        self._offset = timedelta(0)


def _aware(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def parse_iso(value: str) -> datetime | None:
    """An ISO-8601 timestamp (``Z``, offsets, fractions; a bare date is midnight) as aware
    UTC; naive values are UTC. None when it does not parse."""
    text = value.strip()
    if not text:
        return None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return _aware(parsed)


class PosFake:
    """Base class: state shared by every fake. Subclasses implement :meth:`routes`.

    Fault switches (set any time from the test thread; counters count down per request):

    * ``server_errors_next = N``: the next N requests get HTTP ``server_error_status``
      (default 503) with a JSON body ``{"error": "<reason>"}``.
    * ``html_error_next = N``: the next N requests get HTTP ``html_error_status`` (default
      200; 502 is the other common case) with an nginx-style HTML page, ``text/html``.
    * ``rate_limited_next = N``: the next N requests get 429 ``{"error": "Too Many
      Requests"}`` with ``Retry-After: <retry_after>``.
    * ``missing_selector_next = N``: the next N *list* responses answer 200 with a JSON
      object without the records key: ``{"error": "temporarily unavailable"}``.
    * ``drop_connection_next = N``: the next N requests get no answer at all: the server
      closes the TCP connection after reading the request (a network error for the client;
      logged with status ``0``).
    * ``latency_seconds``: every request waits that long first.

    ``drop_connection_next``, ``server_errors_next``, ``html_error_next`` and
    ``rate_limited_next`` (checked in that order) apply to every request, token endpoints
    included, before authentication (a gateway answers).
    """

    def __init__(self, *, now: datetime | None = None) -> None:
        self.lock = threading.RLock()
        self.clock = Clock(now)
        self.requests: list[RecordedRequest] = []
        self.statuses: list[int] = []
        """HTTP status of each answered request, in the order of :attr:`requests`."""
        self.server_errors_next = 0
        self.server_error_status = 503
        self.html_error_next = 0
        self.html_error_status = 200
        self.rate_limited_next = 0
        self.retry_after = 1
        self.missing_selector_next = 0
        self.drop_connection_next = 0
        self.latency_seconds = 0.0
        self._app: Starlette | None = None

    # -- to override -----------------------------------------------------------------------
    def routes(self) -> list[Route]:
        raise NotImplementedError

    # -- clock ---------------------------------------------------------------------------
    def now(self) -> datetime:
        return self.clock.now()

    def advance(
        self, seconds: float = 0, *, minutes: float = 0, hours: float = 0, days: float = 0
    ) -> datetime:
        """Move the fake's clock forward (tokens expire, new records get later times)."""
        with self.lock:
            return self.clock.advance(seconds, minutes=minutes, hours=hours, days=days)

    # -- request log -----------------------------------------------------------------------
    def clear_requests(self) -> None:
        with self.lock:
            self.requests.clear()
            self.statuses.clear()

    def requests_to(self, path_prefix: str) -> list[RecordedRequest]:
        """Logged requests whose path starts with ``path_prefix``."""
        with self.lock:
            return [r for r in self.requests if r.path.startswith(path_prefix)]

    # -- faults ----------------------------------------------------------------------------
    def take_fault(self, name: str) -> bool:
        """Consume one unit of the counter ``name``; True when one was pending."""
        with self.lock:
            pending = int(getattr(self, name))
            if pending <= 0:
                return False
            setattr(self, name, pending - 1)
            return True

    def list_response(self, body: Any, *, headers: Mapping[str, str] | None = None) -> Response:
        """A 200 JSON list page, unless ``missing_selector_next`` swaps in an error object."""
        if self.take_fault("missing_selector_next"):
            return JSONResponse({"error": "temporarily unavailable"})
        return JSONResponse(body, headers=dict(headers or {}))

    # -- the app -----------------------------------------------------------------------------
    @property
    def app(self) -> Starlette:
        """The Starlette app serving this fake (built once)."""
        if self._app is None:
            routes = [
                *self.routes(),
                Route(
                    "/{path:path}",
                    self.endpoint(_not_found),
                    methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
                ),
            ]
            self._app = Starlette(routes=routes)
            self._app.state.fake = self
        return self._app

    def endpoint(self, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        """Wrap a synchronous handler: log, faults, errors, lock, threadpool."""

        async def run(request: Request) -> Response:
            body = await request.body()
            form: dict[str, str] = {}
            if request.headers.get("content-type", "").startswith(
                "application/x-www-form-urlencoded"
            ):
                form = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
            query_list = list(request.query_params.multi_items())
            call = Call(
                method=request.method,
                path=request.url.path,
                path_params={k: str(v) for k, v in request.path_params.items()},
                query=dict(query_list),
                headers=request.headers,
                form=form,
                base_url=f"{request.url.scheme}://{request.url.netloc}",
                body=body,
                query_list=query_list,
            )
            if self.latency_seconds > 0:
                await asyncio.sleep(self.latency_seconds)
            response = await run_in_threadpool(self._dispatch, handler, call)
            if response is DROP:
                _drop_connection(request)
            return response

        return run

    def _dispatch(self, handler: Handler, call: Call) -> Response:
        with self.lock:
            self.requests.append(
                RecordedRequest(
                    call.method,
                    call.path,
                    dict(call.query),
                    {k: v for k, v in call.headers.items() if k not in _UNLOGGED_HEADERS},
                )
            )
            if self.take_fault("drop_connection_next"):
                self.statuses.append(0)
                return DROP
            response = self._gateway_fault()
            if response is None:
                try:
                    response = handler(call)
                except HttpError as error:
                    response = JSONResponse(error.body, error.status, headers=error.headers)
            self.statuses.append(response.status_code)
            return response

    def _gateway_fault(self) -> Response | None:
        if self.take_fault("server_errors_next"):
            status = self.server_error_status
            return JSONResponse({"error": REASONS.get(status, "Server Error")}, status)
        if self.take_fault("html_error_next"):
            status = self.html_error_status
            page = HTML_ERROR_PAGE.format(
                status=status if status != 200 else 502,
                reason=REASONS.get(status if status != 200 else 502, "Error"),
                request_id=uuid.uuid4(),
            )
            return Response(page, status, media_type="text/html; charset=utf-8")
        if self.take_fault("rate_limited_next"):
            return JSONResponse(
                {"error": "Too Many Requests"}, 429, headers={"Retry-After": str(self.retry_after)}
            )
        return None


DROP = Response(b"", 599)
"""Marker response of a dropped connection: never reaches the client (the socket is closed
first, so uvicorn discards whatever the app sends afterwards)."""


def _drop_connection(request: Request) -> None:
    """Close the client's TCP connection without answering.

    uvicorn (h11 or httptools) hands the app its ``RequestResponseCycle.receive`` bound
    method; that cycle owns the connection's transport. Closing it and marking the cycle
    disconnected makes uvicorn drop every later ``send`` — the client sees the connection
    close with no response (``RemoteProtocolError: Server disconnected…`` in httpx). A server
    without that shape gets a raised error instead (uvicorn would answer 500).
    """
    cycle = getattr(request.receive, "__self__", None)
    transport = getattr(cycle, "transport", None)
    if cycle is None or transport is None:
        raise RuntimeError("drop_connection_next: cannot reach the connection's transport")
    transport.close()
    cycle.disconnected = True


def _not_found(call: Call) -> Response:
    return JSONResponse({"error": "Not Found", "path": call.path}, 404)


def json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(type(value).__name__)


def copy_json(value: Any) -> Any:
    """A deep copy of a JSON-able value (records are served as copies)."""
    return json.loads(json.dumps(value, default=json_default))


def int_param(
    call: Call, name: str, default: int, *, minimum: int = 0, error: Callable[[str], Any]
) -> int:
    """An integer query parameter; a malformed or too-small value → 400 with ``error(msg)``."""
    raw = call.query.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise HttpError(400, error(f"{name} must be an integer, got {raw!r}")) from None
    if value < minimum:
        raise HttpError(400, error(f"{name} must be >= {minimum}, got {value}"))
    return value


def money(value: float | int | str) -> float:
    """A JSON money number with at most two decimals (``40.0``, ``-48.2``)."""
    return round(float(value) + 0.0, 2)


def epoch_ms(value: datetime) -> int:
    return int(_aware(value).timestamp() * 1000)


def from_epoch_ms(value: int) -> datetime:
    return datetime.fromtimestamp(value / 1000, UTC)


def lower_query(call: Call) -> dict[str, str]:
    """Query parameters with lower-cased names (ASP.NET-style case-insensitive binding)."""
    return {k.lower(): v for k, v in call.query.items()}


def basic_credentials(call: Call) -> tuple[str, str] | None:
    """``(user, password)`` from ``Authorization: Basic …``; None when absent or malformed."""
    header = call.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        user, sep, password = base64.b64decode(value, validate=True).decode().partition(":")
    except (ValueError, binascii.Error):
        return None
    return (user, password) if sep else None


def copy_record(value: dict[str, Any]) -> dict[str, Any]:
    """A deep copy of one JSON record."""
    copied: dict[str, Any] = json.loads(json.dumps(value, default=json_default))
    return copied
