"""Raw ASGI I/O for the API pipeline: body reading, JSON replies, deliberate drops.

A dropped connection is produced by sending ``http.response.start`` with a
Content-Length and then returning without any body. Uvicorn then closes the
socket ("ASGI callable returned without completing response"), so an HTTP
client sees a truncated response, i.e. a transport error such as httpx's
``RemoteProtocolError``, never a usable status. Uvicorn logs that as an error;
:class:`DropLogFilter` hides the log line for deliberate drops only, using a
context variable set in the request's task.
"""

from __future__ import annotations

import contextvars
import json
import logging

from starlette.types import Receive, Scope, Send

_DROPPING: contextvars.ContextVar[bool] = contextvars.ContextVar("sandbox_dropping", default=False)
_UVICORN_INCOMPLETE = "ASGI callable returned without completing response."
_DROP_CLAIMED_LENGTH = b"4096"


def request_headers(scope: Scope) -> dict[str, str]:
    """Header names lower-cased; the last value wins for repeats."""
    return {
        name.decode("latin-1").lower(): value.decode("latin-1") for name, value in scope["headers"]
    }


class ClientGone(Exception):
    """The client disconnected before its request body was complete."""


async def read_body(receive: Receive, limit: int) -> tuple[bytes, bool]:
    """Read the whole request body; returns (body, too_large). Excess bytes are discarded.

    Raises :class:`ClientGone` when the client disconnects before the body is complete
    (a process killed mid-request): such a request is never processed, as a real server
    would not see a complete request either.
    """
    chunks: list[bytes] = []
    size = 0
    too_large = False
    while True:
        message = await receive()
        if message["type"] != "http.request":
            raise ClientGone
        chunk: bytes = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            too_large = True
        elif chunk:
            chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks), too_large


def encode_json(payload: object) -> bytes:
    return json.dumps(payload, separators=(",", ":")).encode()


async def send_json(send: Send, status: int, body: bytes, headers: dict[str, str]) -> None:
    raw_headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]
    raw_headers.extend((k.encode("latin-1"), v.encode("latin-1")) for k, v in headers.items())
    await send({"type": "http.response.start", "status": status, "headers": raw_headers})
    await send({"type": "http.response.body", "body": body})


async def drop_connection(send: Send) -> None:
    """Start a response that promises a body, then abandon it (see module docstring)."""
    _DROPPING.set(True)
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", _DROP_CLAIMED_LENGTH),
            ],
        }
    )


class DropLogFilter(logging.Filter):
    """Suppress uvicorn's 'incomplete response' error for deliberate drops."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (_DROPPING.get() and record.getMessage() == _UVICORN_INCOMPLETE)


_FILTER = DropLogFilter()


def install_drop_log_filter() -> None:
    """Attach the filter to uvicorn's error logger (idempotent)."""
    logger = logging.getLogger("uvicorn.error")
    if _FILTER not in logger.filters:
        logger.addFilter(_FILTER)
