"""Hostile HTTP clients on loopback, for the daemon's guard tests and bench/webhooks.py:
connections that send nothing, and connections that send their request one byte a
second (slowloris). Bounded: a fixed number of sockets, closed on exit."""

from __future__ import annotations

import contextlib
import errno
import resource
import socket
import threading
import time
from collections.abc import Iterator
from types import TracebackType

import pytest

SLOW_REQUEST = (b"POST /webhooks/sticky/ws_test_online HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                b"Content-Type: application/json\r\nX-Padding: " + b"a" * 4000)


def ensure_open_files(needed: int) -> None:
    """Raise this process's soft open-file limit to hold ``needed`` sockets, or skip."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft >= needed:
        return
    if hard != resource.RLIM_INFINITY and hard < needed:
        pytest.skip(f"the open-file hard limit ({hard}) is below {needed}")
    resource.setrlimit(resource.RLIMIT_NOFILE, (needed, hard))


class HostileClients:
    """``idle`` connections that never send a byte and ``slow`` ones that send a request
    one byte per ``interval`` seconds, all to ``host:port``."""

    def __init__(self, host: str, port: int, *, idle: int, slow: int,
                 interval: float = 1.0) -> None:
        self.address = (host, port)
        self.idle_count, self.slow_count, self.interval = idle, slow, interval
        self.idle: list[socket.socket] = []
        self.slow: list[socket.socket] = []
        self.refused = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._drip, name="slow-clients", daemon=True)

    def __enter__(self) -> HostileClients:
        for _ in range(self.idle_count):
            self._connect(self.idle)
        for _ in range(self.slow_count):
            self._connect(self.slow)
        self._thread.start()
        return self

    def _connect(self, into: list[socket.socket]) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.settimeout(5)
        try:
            sock.connect(self.address)
        except OSError:
            self.refused += 1
            sock.close()
            return
        sock.setblocking(False)
        into.append(sock)

    def _drip(self) -> None:
        position = 0
        while not self._stop.wait(self.interval):
            byte = SLOW_REQUEST[position % len(SLOW_REQUEST):][:1]
            position += 1
            for sock in self.slow:
                with contextlib.suppress(OSError):
                    sock.send(byte)

    def still_open(self) -> int:
        """How many of the connections the server has not closed yet."""
        alive = 0
        for sock in (*self.idle, *self.slow):
            try:
                data = sock.recv(1, socket.MSG_PEEK)
            except BlockingIOError:
                alive += 1  # nothing to read, not closed
                continue
            except OSError as exc:
                if exc.errno not in (errno.ECONNRESET, errno.EPIPE, errno.ENOTCONN):
                    raise
                continue
            alive += 1 if data else 0
        return alive

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        for sock in (*self.idle, *self.slow):
            sock.close()


@contextlib.contextmanager
def timed() -> Iterator[list[float]]:
    """``with timed() as took:`` … ``took[0]`` is the seconds the block took."""
    took: list[float] = []
    started = time.perf_counter()
    try:
        yield took
    finally:
        took.append(time.perf_counter() - started)
