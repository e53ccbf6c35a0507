"""vcrpy cassettes for httpx2: a transport that plays (or records) interactions.

vcrpy patches the ``httpx`` package, not ``httpx2``, so instead of patching we give the
Shopify client this transport: vcrpy's own ``Cassette`` does the storage, the filtering
and the matching. With ``record_mode="none"`` (CI) a request the cassette does not hold
fails the test: a changed query, variable or request order is caught.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx2
from vcr import matchers
from vcr.cassette import Cassette
from vcr.record_mode import RecordMode
from vcr.request import Request as VcrRequest

SECRET_HEADERS = ("x-shopify-access-token", "authorization")
_PHONE = re.compile(r"\+1\d{10}")
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
_PORT = re.compile(r"127\.0\.0\.1:\d+")


def _filter_request(request: VcrRequest) -> VcrRequest:
    for name in list(request.headers):
        if name.lower() in SECRET_HEADERS:
            request.headers[name] = "<filtered>"
    request.uri = _PORT.sub("shopify.test", request.uri)
    return request


def scrub_pii(text: str) -> str:
    """Customers' phones and e-mails out of recorded bodies (stable, still valid shapes)."""
    text = _PHONE.sub("+14155550100", text)
    return _EMAIL.sub("customer@example.com", text)


def _filter_response(response: dict[str, Any]) -> dict[str, Any]:
    body = response["body"]["string"]
    text = body.decode() if isinstance(body, bytes) else str(body)
    response["body"]["string"] = _PORT.sub("shopify.test", scrub_pii(text)).encode()
    for name in list(response["headers"]):
        if name.lower() in ("date", "server"):
            del response["headers"][name]
    return response


class CassetteTransport(httpx2.BaseTransport):
    def __init__(self, cassette: Cassette, real: httpx2.BaseTransport | None) -> None:
        self.cassette = cassette
        self.real = real

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        body = request.read()
        vcr_request = VcrRequest(request.method, _PORT.sub("shopify.test", str(request.url)),
                                 body, dict(request.headers))
        if self.cassette.can_play_response_for(vcr_request):
            played = self.cassette.play_response(vcr_request)
            return httpx2.Response(
                played["status"]["code"],
                headers=[(k, v) for k, values in played["headers"].items() for v in values],
                content=played["body"]["string"], request=request)
        if self.real is None or self.cassette.write_protected:
            raise AssertionError(
                f"request not in cassette {self.cassette._path}: {request.method} "
                f"{request.url.path} {body[:300]!r} (re-record with "
                "STICKY_SYNC_RECORD_CASSETTES=1 if the change is intended)")
        response = self.real.handle_request(request)
        content = response.read()
        self.cassette.append(vcr_request, {
            "status": {"code": response.status_code, "message": response.reason_phrase},
            "headers": {k: [v] for k, v in response.headers.items()
                        if k.lower() not in ("content-length", "content-encoding")},
            "body": {"string": content}})
        return httpx2.Response(response.status_code, headers=response.headers,
                               content=content, request=request)


@contextmanager
def cassette_transport(path: Path, *, record: bool,
                       real: Callable[[], httpx2.BaseTransport] = httpx2.HTTPTransport
                       ) -> Iterator[CassetteTransport]:
    """Play ``path`` (``record=False``: record mode none) or record it afresh."""
    if record and path.exists():
        path.unlink()
    cassette = Cassette.load(
        path=str(path), record_mode=RecordMode.ALL if record else RecordMode.NONE,
        match_on=(matchers.method, matchers.path, matchers.query, matchers.body),
        before_record_request=_filter_request, before_record_response=_filter_response)
    transport = CassetteTransport(cassette, real() if record else None)
    try:
        yield transport
    finally:
        if transport.real is not None:
            transport.real.close()
        if record:
            cassette._save(force=True)
