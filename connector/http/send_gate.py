"""A wait to run once the connection a request goes out on is ready, just before it is
written.

A rate-limited server counts a request when it arrives. Counted when it leaves the pacer,
a request that first had to open its connection (a TCP connect, a TLS handshake) arrives
later than its count says, bunched with the ones behind it on warm connections: at the
start of a run that put a 100th request in the server's first second (measured on 8
workspaces: connects of 4-19 ms, a 429 in every workspace ~1 s in). A transport that can
(``AiohttpTransport``) runs the gate after it has the connection; any other, the pacer
runs it before sending.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextvars import ContextVar

SendGate = Callable[[], Awaitable[None]]

SEND_GATE: ContextVar[SendGate | None] = ContextVar("sticky_send_gate", default=None)
"""Set by the caller around one ``handle_async_request``; read by the transport."""


def runs_send_gate(transport: object) -> bool:
    """Whether ``transport`` runs :data:`SEND_GATE` itself, once its connection is ready."""
    return bool(getattr(transport, "runs_send_gate", False))
