"""Serve a :class:`ShopifyFake` over real HTTP on loopback, from a background thread.

Same pattern as ``sandbox.server.running_sandbox`` (copied, not imported, so the two can
evolve apart): bind a socket on a free port first, hand it to uvicorn, wait until started.
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

from tests.shopify_fake.app import create_app
from tests.shopify_fake.fake import ShopifyFake

STARTUP_TIMEOUT = 10.0
SHUTDOWN_TIMEOUT = 10.0
DEFAULT_TOKEN = "shpat_test_token"
DEFAULT_VERSION = "2026-07"


@dataclass(frozen=True)
class RunningShopify:
    """A fake served by :func:`running_shopify`."""

    fake: ShopifyFake
    base_url: str
    """``http://127.0.0.1:<port>``: where ``https://<shop>.myshopify.com`` would be."""
    host: str
    port: int
    token: str
    app: Starlette

    @property
    def shop_domain(self) -> str:
        """``127.0.0.1:<port>``: what the adapter uses in place of ``<shop>.myshopify.com``
        (the scheme is ``http``; the real ``myshopifyDomain`` is :attr:`myshopify_domain`)."""
        return self.base_url.split("://", 1)[1]

    @property
    def myshopify_domain(self) -> str:
        return self.fake.shop.myshopify_domain

    def graphql_url(self, version: str = DEFAULT_VERSION) -> str:
        """``http://127.0.0.1:<port>/admin/api/<version>/graphql.json``."""
        return f"{self.base_url}/admin/api/{version}/graphql.json"

    @property
    def headers(self) -> dict[str, str]:
        """The headers a client sends: the access token and JSON content type."""
        return {"X-Shopify-Access-Token": self.token, "Content-Type": "application/json"}


def _bind(host: str, port: int) -> socket.socket:
    family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(address)
    sock.listen(128)
    sock.setblocking(False)
    return sock


@contextlib.contextmanager
def running_shopify(
    fake: ShopifyFake,
    token: str = DEFAULT_TOKEN,
    *,
    extra_tokens: tuple[str, ...] = (),
    host: str = "127.0.0.1",
    port: int = 0,
) -> Iterator[RunningShopify]:
    """Serve ``fake`` on ``host:port`` (0 = a free port) for the ``with`` block.

    Requests must carry ``X-Shopify-Access-Token: <token>`` (or one of ``extra_tokens``).
    """
    app = create_app(fake, (token, *extra_tokens))
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
        target=server.run, kwargs={"sockets": [sock]}, name="shopify-fake-uvicorn", daemon=True
    )
    thread.start()
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while not server.started:
            if not thread.is_alive():
                raise RuntimeError("shopify fake server thread exited during startup")
            if time.monotonic() > deadline:
                raise RuntimeError("shopify fake server did not start in time")
            time.sleep(0.005)
        url_host = f"[{host}]" if ":" in host else host
        yield RunningShopify(fake, f"http://{url_host}:{bound_port}", host, bound_port, token, app)
    finally:
        server.should_exit = True
        thread.join(SHUTDOWN_TIMEOUT)
        sock.close()
