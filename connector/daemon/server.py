"""``GET /healthz`` and ``GET /metrics``, served by uvicorn on the daemon's event loop."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Iterator, Sequence
from typing import Any, Protocol

import structlog
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from connector.daemon.guard import Guard, guarded_protocol
from connector.errors import ConfigurationError
from connector.sync.state_thread import off_loop

log = structlog.get_logger("connector.daemon")

STARTUP_TIMEOUT = 10.0
SHUTDOWN_TIMEOUT = 5.0


class HealthSource(Protocol):
    def health(self) -> tuple[dict[str, Any], bool]:
        """The health document, and whether the daemon is draining (answered 503)."""

    def exposition(self, accept: str | None) -> tuple[bytes, str]:
        """The metrics exposition and its content type."""


def health_app(source: HealthSource, extra_routes: Sequence[BaseRoute] = ()) -> Starlette:
    # /healthz runs on the event loop and reads only memory
    async def healthz(request: Request) -> JSONResponse:
        body, draining = source.health()
        return JSONResponse(body, status_code=503 if draining else 200)

    async def metrics(request: Request) -> Response:
        # on a worker thread: it reads the state DB, which may be slow or locked, and
        # /healthz must keep answering meanwhile
        body, content_type = await off_loop(source.exposition,
                                            request.headers.get("accept"))
        return Response(body, headers={"Content-Type": content_type})

    return Starlette(routes=[Route("/healthz", healthz, methods=["GET"]),
                             Route("/metrics", metrics, methods=["GET"]), *extra_routes])


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        # The daemon owns SIGTERM/SIGINT (loop.add_signal_handler): uvicorn would replace
        # them with its own and re-raise the signal once it stopped.
        yield


class HealthServer:
    """Binds ``host:port`` itself, so a port in use is a configuration error at start
    (uvicorn would call ``sys.exit`` from inside the event loop)."""

    def __init__(self, app: Starlette, host: str, port: int,
                 guard: Guard | None = None) -> None:
        self._app = app
        self._guard = guard
        self._host = host
        self._port = port
        self._socket: socket.socket | None = None
        self._server: _Server | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        host = f"[{self._host}]" if ":" in self._host else self._host
        return f"http://{host}:{self._port}"

    async def start(self) -> None:
        self._socket = _bind(self._host, self._port)
        self._port = int(self._socket.getsockname()[1])  # port 0: the one the OS chose
        guard = self._guard
        config = uvicorn.Config(
            self._app, log_config=None, log_level="warning", access_log=False,
            lifespan="off", timeout_graceful_shutdown=2, backlog=1024,
            http=guarded_protocol(guard) if guard is not None else "h11",
            timeout_keep_alive=max(1, round(guard.limits.keep_alive)) if guard else 5)
        self._server = _Server(config)
        self._task = asyncio.create_task(self._server.serve(sockets=[self._socket]),
                                         name="health-server")
        deadline = asyncio.get_running_loop().time() + STARTUP_TIMEOUT
        while not self._server.started:
            if self._task.done():
                self._task.result()  # raises what stopped it
                raise RuntimeError("the health server stopped during startup")
            if asyncio.get_running_loop().time() > deadline:
                raise RuntimeError("the health server did not start in time")
            await asyncio.sleep(0.01)

    async def stop(self) -> None:
        if self._server is not None and self._task is not None:
            self._server.should_exit = True
            try:
                await asyncio.wait_for(self._task, SHUTDOWN_TIMEOUT)
            except TimeoutError:
                log.warning("health server did not stop in time")
            except Exception as exc:  # noqa: BLE001 - stopping anyway
                log.warning("health server stopped with an error", error=str(exc))
        if self._socket is not None:
            self._socket.close()


def _bind(host: str, port: int) -> socket.socket:
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM)[0]
        sock = socket.socket(family, kind, proto)
    except OSError as exc:
        raise ConfigurationError(f"daemon.host {host!r}: {exc}") from exc
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(1024)
    except OSError as exc:
        sock.close()
        raise ConfigurationError(
            f"daemon: cannot listen on {host}:{port} ({exc.strerror or exc}); set "
            "[daemon] port to a free port, or 0 to run without the health server") from exc
    sock.setblocking(False)
    return sock
