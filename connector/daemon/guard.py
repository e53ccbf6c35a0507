"""Connection limits for the daemon's HTTP servers (``/healthz``, ``/metrics`` and the
webhook receiver), which face the network and must outlive slow and hostile clients.

uvicorn reads a request's headers and body for as long as the client takes and admits
every connection until the process runs out of file descriptors. Each connection here
is instead *guarded* (:class:`GuardedH11Protocol`):

- its headers must arrive within ``header_timeout`` of the connection (or of the first
  byte of the next request on a kept-alive one), its body within ``body_timeout`` of the
  headers; a connection that is late is closed (uvicorn's own keep-alive timeout closes
  idle ones between requests);
- at most ``max_connections`` are open at once, never more than the process's open-file
  limit allows (less a reserve for the state DB, the clients and the logs). When the cap
  is reached, a new connection evicts the oldest one still waiting for its request
  (an idle or slow client) instead of being refused, so a prompt client (a health probe,
  Sticky) always gets in; only when every open connection is busy with a request is the
  new one refused;
- a client address with ``max_per_client`` connections open gets ``pressure_timeout``
  (1 s) for the headers of any further one: a burst from one address cannot hold the
  slots for long, and a probe from the same address that sends its request at once is
  still served;
- nothing is logged per connection: the counts go to ``/metrics`` and, at most every
  ``report_seconds``, into one summary line.
"""

from __future__ import annotations

import asyncio
import logging
import resource
import time
from collections import Counter, OrderedDict
from dataclasses import dataclass, field
from typing import Any

import h11
import structlog
from uvicorn.protocols.http.h11_impl import H11Protocol

log = structlog.get_logger("connector.daemon")

FD_RESERVE = 128
"""File descriptors kept for everything that is not a client connection."""

TIMED_OUT_HEADERS = "header_timeout"
TIMED_OUT_BODY = "body_timeout"
EVICTED = "evicted"
REFUSED = "refused"
INVALID = "invalid_request"


@dataclass(frozen=True, slots=True)
class Limits:
    header_timeout: float = 10.0
    body_timeout: float = 20.0
    keep_alive: float = 5.0
    max_connections: int = 1000
    max_per_client: int = 32
    pressure_timeout: float = 1.0
    report_seconds: float = 30.0


def raise_open_file_limit() -> int:
    """Raise this process's soft open-file limit to its hard limit; the soft limit now."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY:
        hard = max(soft, 1 << 20)
    if soft < hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            soft = hard
        except (ValueError, OSError) as exc:  # a container may refuse
            log.warning("could not raise the open-file limit", soft=soft, hard=hard,
                        error=str(exc))
    return soft


def connection_cap(configured: int, open_files: int) -> int:
    """``configured``, lowered so that the connections fit in the open-file limit."""
    return max(16, min(configured, open_files - FD_RESERVE))


@dataclass(slots=True)
class Guard:
    """What every connection of one server shares: counts and the waiting queue."""

    limits: Limits
    cap: int
    name: str = "http"
    open_by_client: Counter[str] = field(default_factory=Counter)
    waiting: OrderedDict[int, GuardedH11Protocol] = field(default_factory=OrderedDict)
    """Connections still waiting for (the rest of) a request, oldest first."""
    open_count: int = 0
    shed: Counter[str] = field(default_factory=Counter)
    """Connections closed or refused, by reason, since the start (for /metrics)."""
    _reported: Counter[str] = field(default_factory=Counter)
    _last_report: float = field(default_factory=time.monotonic)

    def count(self, reason: str) -> None:
        self.shed[reason] += 1
        self.maybe_report()

    def maybe_report(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last_report < self.limits.report_seconds:
            return
        fresh = self.shed - self._reported
        self._last_report = now
        if fresh:
            self._reported = Counter(self.shed)
            log.warning("connections shed", server=self.name,
                        seconds=round(self.limits.report_seconds), open=self.open_count,
                        cap=self.cap, **dict(sorted(fresh.items())))


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with the limits of :class:`Guard` (see the module doc).

    Phases: ``headers`` (waiting for a request's headers, deadline armed), ``body``
    (its body), ``busy`` (the request is complete: the app answers it), ``idle``
    (kept alive between requests: uvicorn's keep-alive timer). Every phase but ``busy``
    is waiting for the client, and may be evicted for a new connection."""

    guard: Guard  # set on the subclass made by :func:`guarded_protocol`

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._deadline: asyncio.TimerHandle | None = None
        self._client_key = ""
        self._counted = False
        self._phase = "headers"

    # -- admission ----------------------------------------------------------------
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        guard = self.guard
        if guard.open_count >= guard.cap and not self._evict_oldest():
            guard.count(REFUSED)
            transport.abort()
            return
        self._counted = True
        guard.open_count += 1
        self._client_key = self.client[0] if self.client else "-"
        guard.open_by_client[self._client_key] += 1
        crowded = guard.open_by_client[self._client_key] > guard.limits.max_per_client
        self._wait("headers", guard.limits.pressure_timeout if crowded
                   else guard.limits.header_timeout, TIMED_OUT_HEADERS)

    def _evict_oldest(self) -> bool:
        guard = self.guard
        while guard.waiting:
            _, victim = guard.waiting.popitem(last=False)
            if not victim.transport.is_closing():
                guard.count(EVICTED)
                victim.transport.abort()
                return True
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_waiting()
        if self._counted:
            self._counted = False
            guard = self.guard
            guard.open_count -= 1
            guard.open_by_client[self._client_key] -= 1
            if guard.open_by_client[self._client_key] <= 0:
                del guard.open_by_client[self._client_key]
        super().connection_lost(exc)

    # -- phases and deadlines -------------------------------------------------------
    def _wait(self, phase: str, seconds: float | None, reason: str = "") -> None:
        """Wait for the client in ``phase``; ``seconds`` None: uvicorn's own timer."""
        self._stop_waiting()
        self._phase = phase
        if seconds is not None:
            self._deadline = self.loop.call_later(seconds, self._late, reason)
        self.guard.waiting[id(self)] = self

    def _stop_waiting(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None
        self.guard.waiting.pop(id(self), None)

    def _late(self, reason: str) -> None:
        self._deadline = None
        self.guard.waiting.pop(id(self), None)
        if not self.transport.is_closing():
            self.guard.count(reason)
            self.transport.abort()

    def data_received(self, data: bytes) -> None:
        if self._phase == "idle":  # the first bytes of the next request
            self._wait("headers", self.guard.limits.header_timeout, TIMED_OUT_HEADERS)
        super().data_received(data)
        state = self.conn.their_state
        if self._phase == "headers" and state is h11.SEND_BODY:
            self._wait("body", self.guard.limits.body_timeout, TIMED_OUT_BODY)
        elif self._phase in ("headers", "body") and state is not h11.IDLE and (
                state is not h11.SEND_BODY):
            self._stop_waiting()  # the whole request is in (or the connection is done)
            self._phase = "busy"

    def on_response_complete(self) -> None:
        super().on_response_complete()  # arms uvicorn's keep-alive timer
        if not self.transport.is_closing():
            self._wait("idle", None)

    def send_400_response(self, msg: str) -> None:
        self.guard.count(INVALID)
        super().send_400_response(msg)


def guarded_protocol(guard: Guard) -> type[GuardedH11Protocol]:
    """A protocol class bound to ``guard`` (uvicorn builds one instance per connection)."""
    return type("BoundGuardedH11Protocol", (GuardedH11Protocol,), {"guard": guard})


class QuietAcceptErrors(logging.Filter):
    """asyncio logs every failed ``accept()`` (``Too many open files``) with a traceback;
    uvicorn a warning per invalid request. Those become counts in the guard's summary."""

    def __init__(self, guard: Guard) -> None:
        super().__init__()
        self.guard = guard

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if record.name == "asyncio" and "accept" in message:
            self.guard.count("accept_failed")
            return False
        return not (record.name.startswith("uvicorn") and "Invalid HTTP request" in message)
