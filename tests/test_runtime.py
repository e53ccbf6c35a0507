"""The CLI's event loop: uvloop's where installed, asyncio's when declined."""

from __future__ import annotations

import asyncio

import pytest
import uvloop

from connector import runtime


async def loop_kind() -> type[asyncio.AbstractEventLoop]:
    return type(asyncio.get_running_loop())


def test_uvloop_runs_the_coroutine_where_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(runtime.LOOP_ENV, raising=False)
    assert issubclass(runtime.run(loop_kind()), uvloop.Loop)


def test_asyncio_loop_when_uvloop_is_declined(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(runtime.LOOP_ENV, "asyncio")
    kind = runtime.run(loop_kind())
    assert not issubclass(kind, uvloop.Loop)
    assert issubclass(kind, asyncio.BaseEventLoop)


def test_an_exception_and_the_result_come_back_as_from_asyncio_run() -> None:
    async def fails() -> None:
        raise ValueError("boom")

    async def answers() -> int:
        await asyncio.sleep(0)
        return 42

    with pytest.raises(ValueError, match="boom"):
        runtime.run(fails())
    assert runtime.run(answers()) == 42
