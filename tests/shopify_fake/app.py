"""The ASGI app: ``POST /admin/api/{version}/graphql.json`` and the bulk result files."""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from collections.abc import Iterable

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from tests.shopify_fake import bulk, engine
from tests.shopify_fake.fake import RecordedRequest, ShopifyFake

INVALID_TOKEN = "[API] Invalid API key or access token (unrecognized login or wrong password)"
_VERSION = re.compile(r"^\d{4}-(01|04|07|10)$")

SERVER_ERROR_PAGE = """<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>{status} - {reason}</title></head>
<body>
<h1>{reason}</h1>
<p>There was a problem loading this website. Please try again.</p>
<p>Request ID: {request_id}</p>
</body>
</html>
"""
_REASONS = {
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}

GCS_ERROR = (
    "<?xml version='1.0' encoding='UTF-8'?><Error><Code>{code}</Code>"
    "<Message>{message}</Message></Error>"
)


def served_version(requested: str, supported: Iterable[str]) -> str | None:
    """The version that answers: the requested one if supported, else (well-formed but
    unsupported) the oldest supported stable version, as Shopify falls forward; None: 404."""
    stable = sorted(supported)
    if requested in stable or requested == "unstable":
        return requested
    if _VERSION.match(requested) and stable:
        return stable[0]
    return None


def _fake(request: Request) -> ShopifyFake:
    fake = request.app.state.fake
    assert isinstance(fake, ShopifyFake)
    return fake


def _record_transport(fake: ShopifyFake, version: str, status: int, body: bytes) -> None:
    query = variables = operation = None
    try:
        payload = json.loads(body) if body else None
    except ValueError:
        payload = None
    if isinstance(payload, dict):
        query = payload.get("query") if isinstance(payload.get("query"), str) else None
        variables = payload.get("variables") if isinstance(payload.get("variables"), dict) else None
        op = payload.get("operationName")
        operation = op if isinstance(op, str) else None
    fake.record(
        RecordedRequest(
            query=query,
            variables=variables,
            operation_name=operation,
            version=version,
            status=status,
            cost=None,
            requested_cost=None,
        )
    )


class DroppedConnection(Response):
    """Starts an answer and ends without its body: uvicorn closes the connection (and logs
    "ASGI callable returned without completing response"); the client sees a network
    error."""

    def __init__(self) -> None:
        super().__init__(status_code=200)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"content-length", b"64")],
            }
        )


async def graphql_endpoint(request: Request) -> Response:
    fake = _fake(request)
    version = request.path_params["version"]
    body = await request.body()
    if fake.take_fault("disconnects_next"):
        _record_transport(fake, version, 0, body)
        return DroppedConnection()
    if fake.take_fault("server_errors_next"):
        status = fake.server_error_status
        _record_transport(fake, version, status, body)
        page = SERVER_ERROR_PAGE.format(
            status=status, reason=_REASONS.get(status, "Error"), request_id=uuid.uuid4()
        )
        return Response(page, status_code=status, media_type="text/html; charset=utf-8")
    if fake.latency_seconds > 0:
        await asyncio.sleep(fake.latency_seconds)
    if request.headers.get("X-Shopify-Access-Token") not in request.app.state.tokens:
        _record_transport(fake, version, 401, body)
        return JSONResponse({"errors": INVALID_TOKEN}, status_code=401)
    served = served_version(version, fake.api_versions)
    if served is None:
        _record_transport(fake, version, 404, body)
        return JSONResponse({"errors": "Not Found"}, status_code=404)
    if request.headers.get("content-type", "").startswith("application/graphql"):
        payload: object = {"query": body.decode(errors="replace")}
    else:
        try:
            payload = json.loads(body) if body else None
        except ValueError:
            payload = None
    base_url = f"{request.url.scheme}://{request.url.netloc}"
    answer = await run_in_threadpool(
        engine.handle, fake, payload, version=served, base_url=base_url
    )
    headers = {"X-Shopify-API-Version": served, "X-Request-Id": str(uuid.uuid4())}
    headers.update(answer.headers)
    return JSONResponse(answer.body, status_code=answer.status, headers=headers)


async def bulk_file(request: Request) -> Response:
    fake = _fake(request)
    name: str = request.path_params["name"]
    partial = name.endswith("-partial")
    digits = name.removesuffix("-partial")
    if fake.take_fault("download_errors_next"):
        return Response(
            GCS_ERROR.format(code="ServiceUnavailable", message="Service Unavailable"),
            status_code=503,
            media_type="application/xml",
        )
    if not digits.isdigit():
        status, data = 404, None
    else:
        status, data = bulk.result_file(
            fake,
            int(digits),
            partial=partial,
            signed=request.query_params.get("X-Goog-Signature"),
        )
    if data is None:
        code, message = (
            ("SignatureDoesNotMatch", "Access denied.")
            if status == 403
            else ("NoSuchKey", "The specified key does not exist.")
        )
        return Response(
            GCS_ERROR.format(code=code, message=message),
            status_code=status,
            media_type="application/xml",
        )
    with fake.lock:
        fake.downloads.append(str(request.url))
    return Response(data, media_type="application/jsonl")


async def not_found(_request: Request) -> Response:
    return JSONResponse({"errors": "Not Found"}, status_code=404)


def create_app(fake: ShopifyFake, tokens: Iterable[str]) -> Starlette:
    app = Starlette(
        routes=[
            Route("/admin/api/{version}/graphql.json", graphql_endpoint, methods=["POST"]),
            Route("/bulk/{name}.jsonl", bulk_file, methods=["GET"]),
            Route("/{path:path}", not_found, methods=["GET", "POST", "PUT", "DELETE"]),
        ]
    )
    app.state.fake = fake
    app.state.tokens = frozenset(tokens)
    return app
