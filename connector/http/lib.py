"""The single place that names the HTTP client libraries.

Code above the seam speaks httpx's API (httpx2: pydantic's maintained continuation of
httpx, API-compatible). Under the target clients (Sticky, Sticker) the requests travel on
aiohttp (:func:`async_transport`): httpx's own transport costs about twice the CPU per
request (``bench/http_clients.py``, README). The synchronous source adapters keep httpx's
own transport.
"""

from __future__ import annotations

import httpx2 as httpx

__all__ = ["async_transport", "httpx"]


def async_transport(*, max_connections: int,
                    keepalive_expiry: float = 60.0) -> httpx.AsyncBaseTransport:
    """The transport under an ``httpx.AsyncClient`` that talks to a target."""
    # Imported here: the synchronous sources never load aiohttp.
    from connector.http.aio_transport import AiohttpTransport  # noqa: PLC0415

    return AiohttpTransport(max_connections=max_connections,
                            keepalive_expiry=keepalive_expiry)
