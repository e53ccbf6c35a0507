"""Serving the sandbox with uvicorn: blocking :func:`serve` and threaded :func:`running_sandbox`."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import uvicorn
from starlette.applications import Starlette

from sandbox.app import create_app, get_state
from sandbox.config import SandboxConfig
from sandbox.state import SandboxState

STARTUP_TIMEOUT = 10.0
SHUTDOWN_TIMEOUT = 10.0


def _uvicorn_config(app: Starlette, host: str, port: int, *, log_config: bool) -> uvicorn.Config:
    options: dict[str, object] = {}
    if not log_config:
        options["log_config"] = None  # leave the host process's logging alone
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level="warning",
        access_log=False,
        lifespan="on",  # shutdown closes the webhook dispatcher
        timeout_graceful_shutdown=2,
        **options,  # type: ignore[arg-type]
    )


def serve(host: str, port: int, config: SandboxConfig) -> None:
    """Run the sandbox in the foreground until interrupted."""
    app = create_app(config)
    uvicorn.Server(_uvicorn_config(app, host, port, log_config=True)).run()


@dataclass(frozen=True)
class RunningSandbox:
    """A sandbox served from a background thread by :func:`running_sandbox`."""

    base_url: str
    host: str
    port: int
    app: Starlette

    @property
    def state(self) -> SandboxState:
        """Live state (mutated on the server thread; prefer ``/_sandbox/*`` while busy)."""
        return get_state(self.app)

    @property
    def config(self) -> SandboxConfig:
        return self.state.config


def _bind(host: str, port: int) -> socket.socket:
    family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(address)
    sock.listen(128)
    sock.setblocking(False)
    return sock


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


@contextlib.contextmanager
def running_sandbox(
    config: SandboxConfig | None = None, host: str = "127.0.0.1", port: int = 0
) -> Iterator[RunningSandbox]:
    """Serve a fresh sandbox on ``host:port`` (0 = any free port) for the ``with`` block."""
    app = create_app(config)
    sock = _bind(host, port)
    bound_port: int = sock.getsockname()[1]
    server = uvicorn.Server(_uvicorn_config(app, host, bound_port, log_config=False))
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="sandbox-uvicorn", daemon=True
    )
    thread.start()
    try:
        _wait_started(server, thread)
        yield RunningSandbox(f"http://{_url_host(host)}:{bound_port}", host, bound_port, app)
    finally:
        server.should_exit = True
        thread.join(SHUTDOWN_TIMEOUT)
        sock.close()


def _wait_started(server: uvicorn.Server, thread: threading.Thread) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("sandbox server thread exited during startup")
        if time.monotonic() > deadline:
            raise RuntimeError("sandbox server did not start in time")
        time.sleep(0.005)
