"""A webhook receiver for the delivery tests: a threaded ``http.server`` that records every
POST and can be told to fail or stall the next requests."""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]  # names lower-cased
    body: bytes
    at: float  # time.monotonic() on arrival
    wall: float  # time.time() on arrival
    status: int  # what the receiver answered


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A sender that timed out and closed the socket is expected; stay silent."""


@dataclass(frozen=True)
class _Plan:
    status: int
    delay: float


class WebhookReceiver:
    """Answers 200 unless a planned answer is queued (:meth:`fail_next`, :meth:`stall_next`)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._received: list[Received] = []
        self._plans: deque[_Plan] = deque()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                headers = {name.lower(): value for name, value in self.headers.items()}
                plan = receiver._record(self.path, headers, body)
                if plan.delay:
                    time.sleep(plan.delay)
                try:
                    self.send_response(plan.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"{}")
                except OSError:  # the sender gave up (timeout)
                    pass

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = _QuietServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def fail_next(self, count: int, status: int = 500) -> None:
        with self._lock:
            self._plans.extend(_Plan(status, 0.0) for _ in range(count))

    def stall_next(self, count: int, seconds: float) -> None:
        """Answer the next ``count`` requests 200, but only after ``seconds``."""
        with self._lock:
            self._plans.extend(_Plan(200, seconds) for _ in range(count))

    def clear_plans(self) -> None:
        with self._lock:
            self._plans.clear()

    def _record(self, path: str, headers: dict[str, str], body: bytes) -> _Plan:
        with self._lock:
            plan = self._plans.popleft() if self._plans else _Plan(200, 0.0)
            self._received.append(
                Received(path, headers, body, time.monotonic(), time.time(), plan.status)
            )
            return plan

    @property
    def received(self) -> list[Received]:
        with self._lock:
            return list(self._received)

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        """The requests once at least ``count`` arrived (AssertionError on timeout)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            received = self.received
            if len(received) >= count:
                return received
            time.sleep(0.01)
        raise AssertionError(f"expected {count} webhook requests, got {len(self.received)}")

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)
