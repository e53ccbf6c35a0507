"""Serve a POS fake (or any Starlette app) over real HTTP on loopback, from a thread.

Same pattern as ``tests.shopify_fake.server`` (copied, not imported, so the two can evolve
apart): bind a socket on a free port first, hand it to uvicorn, wait until started.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import uvicorn
from starlette.applications import Starlette

from tests.pos_fake.common import PosFake

STARTUP_TIMEOUT = 10.0
SHUTDOWN_TIMEOUT = 10.0


@dataclass(frozen=True)
class RunningPos:
    """A fake served by :func:`running_pos`."""

    base_url: str
    """``http://127.0.0.1:<port>`` (no trailing slash): where the POS host would be."""
    host: str
    port: int
    app: Starlette
    fake: PosFake | None
    """The fake, when :func:`running_pos` was given one (None for a bare app)."""

    def url(self, path: str = "/") -> str:
        """``base_url`` + ``path`` (a leading ``/`` is added when missing)."""
        return self.base_url + (path if path.startswith("/") else "/" + path)


def _bind(host: str, port: int) -> socket.socket:
    family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(address)
    sock.listen(128)
    sock.setblocking(False)
    return sock


@contextlib.contextmanager
def running_pos(
    app_or_fake: PosFake | Starlette, *, host: str = "127.0.0.1", port: int = 0
) -> Iterator[RunningPos]:
    """Serve a :class:`PosFake` (its ``.app``) or a Starlette app on ``host:port``
    (0 = a free port) for the ``with`` block."""
    fake = app_or_fake if isinstance(app_or_fake, PosFake) else None
    app = app_or_fake.app if isinstance(app_or_fake, PosFake) else app_or_fake
    sock = _bind(host, port)
    bound_port: int = sock.getsockname()[1]
    config = uvicorn.Config(
        app,
        host=host,
        port=bound_port,
        log_level="warning",
        access_log=False,
        lifespan="off",
        timeout_graceful_shutdown=2,
        log_config=None,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="pos-fake-uvicorn", daemon=True
    )
    thread.start()
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while not server.started:
            if not thread.is_alive():
                raise RuntimeError("pos fake server thread exited during startup")
            if time.monotonic() > deadline:
                raise RuntimeError("pos fake server did not start in time")
            time.sleep(0.005)
        url_host = f"[{host}]" if ":" in host else host
        yield RunningPos(f"http://{url_host}:{bound_port}", host, bound_port, app, fake)
    finally:
        server.should_exit = True
        thread.join(SHUTDOWN_TIMEOUT)
        sock.close()
