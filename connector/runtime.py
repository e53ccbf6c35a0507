"""Running the CLI's coroutines: on uvloop's event loop where uvloop is installed (less
CPU per request: ``bench/http_clients.py``), on asyncio's own otherwise.

``STICKY_SYNC_EVENT_LOOP=asyncio`` keeps asyncio's loop even where uvloop is installed.
Everything else is :func:`asyncio.run`'s: a fresh loop per call, the SIGINT handling of
:class:`asyncio.Runner`, async generators and the default executor shut down at the end.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

T = TypeVar("T")
LOOP_ENV = "STICKY_SYNC_EVENT_LOOP"


def loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's ``new_event_loop`` when it is importable and not declined, else ``None``
    (asyncio's default loop)."""
    if os.environ.get(LOOP_ENV, "").strip().lower() == "asyncio":
        return None
    try:
        import uvloop  # noqa: PLC0415 - optional: only where installed
    except ImportError:
        return None
    return uvloop.new_event_loop


def run(main: Coroutine[Any, Any, T]) -> T:
    """:func:`asyncio.run` on the loop :func:`loop_factory` names."""
    with asyncio.Runner(loop_factory=loop_factory()) as runner:
        return runner.run(main)
