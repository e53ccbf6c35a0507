"""The connection guard of the daemon's HTTP servers, one rule at a time, over real
sockets on loopback (connector/daemon/guard.py)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from connector.daemon.guard import (
    EVICTED,
    REFUSED,
    TIMED_OUT_BODY,
    TIMED_OUT_HEADERS,
    Guard,
    Limits,
    connection_cap,
)
from connector.daemon.server import HealthServer

LIMITS = Limits(header_timeout=0.5, body_timeout=0.5, keep_alive=1.0, max_connections=4,
                max_per_client=3, pressure_timeout=0.2, report_seconds=3600)


async def _ok(request: Request) -> PlainTextResponse:
    return PlainTextResponse("ok")


async def _slow(request: Request) -> PlainTextResponse:
    await asyncio.sleep(1.5)
    return PlainTextResponse("slow")


async def _echo(request: Request) -> PlainTextResponse:
    return PlainTextResponse(str(len(await request.body())))


class Served:
    def __init__(self, server: HealthServer, guard: Guard) -> None:
        self.server, self.guard = server, guard
        self.port = int(server.url.rsplit(":", 1)[1])
        self.writers: list[asyncio.StreamWriter] = []

    async def connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
        self.writers.append(writer)
        return reader, writer

    async def get(self, path: str = "/healthz") -> bytes:
        reader, writer = await self.connect()
        writer.write(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        await writer.drain()
        return await asyncio.wait_for(reader.read(), 5)


def guard_with(cap: int) -> Guard:
    return Guard(LIMITS, cap)


@pytest.fixture
async def served(request: pytest.FixtureRequest) -> AsyncIterator[Served]:
    guard = guard_with(getattr(request, "param", 4))
    app = Starlette(routes=[Route("/healthz", _ok), Route("/slow", _slow),
                            Route("/echo", _echo, methods=["POST"])])
    server = HealthServer(app, "127.0.0.1", 0, guard)
    await server.start()
    served = Served(server, guard)
    try:
        yield served
    finally:
        for writer in served.writers:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
        await server.stop()


async def closed(reader: asyncio.StreamReader, within: float) -> bool:
    """The server closed the connection (EOF or reset) within ``within`` seconds."""
    try:
        return await asyncio.wait_for(reader.read(), within) == b""
    except (ConnectionResetError, OSError):
        return True
    except TimeoutError:
        return False


async def test_headers_sent_too_slowly_are_cut_off(served: Served) -> None:
    reader, writer = await served.connect()
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # never finished
    await writer.drain()
    assert await closed(reader, 3)
    assert served.guard.shed[TIMED_OUT_HEADERS] == 1


async def test_a_body_sent_too_slowly_is_cut_off(served: Served) -> None:
    reader, writer = await served.connect()
    writer.write(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n" + b"x" * 10)
    await writer.drain()
    assert await closed(reader, 3)
    assert served.guard.shed[TIMED_OUT_BODY] == 1
    assert b"200 OK" in await served.get()  # the next client is served


async def test_a_prompt_request_is_served_and_an_idle_kept_alive_one_closed(
        served: Served) -> None:
    reader, writer = await served.connect()
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    await writer.drain()
    assert (await reader.readuntil(b"ok")).startswith(b"HTTP/1.1 200")
    assert await closed(reader, 3)  # kept alive 1 s, then closed
    assert not served.guard.shed  # uvicorn's keep-alive close is not shedding


async def test_at_the_cap_a_new_connection_evicts_the_oldest_waiting_one(
        served: Served) -> None:
    idle = [await served.connect() for _ in range(3)]  # 3 per client: under the pressure
    await asyncio.sleep(0.05)
    assert b"200 OK" in await served.get()  # the 4th slot
    fourth = await served.connect()  # fills the cap
    await asyncio.sleep(0.05)
    assert b"200 OK" in await served.get()  # evicts the oldest idle one
    assert served.guard.shed[EVICTED] >= 1
    assert await closed(idle[0][0], 1)
    for _, writer in [*idle, fourth]:
        writer.close()


async def test_beyond_the_per_client_cap_headers_get_a_short_deadline(
        served: Served) -> None:
    first = [await served.connect() for _ in range(3)]
    reader, writer = await served.connect()  # the 4th from this address
    assert await closed(reader, 0.45)  # pressure: 0.2 s, not the 0.5 s header timeout
    for _, w in first:
        w.close()
    writer.close()


@pytest.mark.parametrize("served", [16], indirect=True)
async def test_when_every_connection_is_busy_a_new_one_is_refused(served: Served) -> None:
    served.guard.cap = 2
    busy = [asyncio.create_task(served.get("/slow")) for _ in range(2)]
    await asyncio.sleep(0.3)
    reader, writer = await served.connect()
    assert await closed(reader, 1)
    assert served.guard.shed[REFUSED] == 1
    assert all(b"slow" in answer for answer in await asyncio.gather(*busy))
    writer.close()


def test_the_cap_fits_the_open_file_limit() -> None:
    assert connection_cap(1000, 1024) == 896
    assert connection_cap(1000, 65536) == 1000
    assert connection_cap(1000, 100) == 16  # never below a working minimum


async def test_invalid_requests_are_answered_400_and_counted_not_logged(
        served: Served, caplog: pytest.LogCaptureFixture) -> None:
    sock = socket.create_connection(("127.0.0.1", served.port))
    sock.sendall(b"NOT HTTP AT ALL\r\n\r\n")
    await asyncio.sleep(0.2)
    assert sock.recv(100).startswith(b"HTTP/1.1 400")
    sock.close()
    assert served.guard.shed["invalid_request"] == 1
