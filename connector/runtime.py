"""Running the CLI's coroutines: on uvloop's event loop where uvloop is installed (less
CPU per request: ``bench/http_clients.py``), on asyncio's own otherwise.

``STICKY_SYNC_EVENT_LOOP=asyncio`` keeps asyncio's loop even where uvloop is installed.
Everything else is :func:`asyncio.run`'s: a fresh loop per call, the SIGINT handling of
:class:`asyncio.Runner`, async generators and the default executor shut down at the end.

Before the loop starts (:func:`tune_process`), what the process holds by then (modules,
configuration, the SQLAlchemy schema...) is moved out of the garbage collector's sight
(:func:`gc.freeze`) and young collections run less often: measured, each full collection
of a run held the event loop for 30 to 110 ms, four times in 3,600 requests, and every
such stall is sending time lost to every workspace (``bench/compare.py``). And a thread
waiting for the GIL gets it within 1 ms instead of 5: the event loop, woken by an answer,
no longer waits behind the state thread's planning.
"""

from __future__ import annotations

import asyncio
import gc
import os
import sys
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


GC_THRESHOLD = (20_000, 20, 20)
"""Young collections every 20,000 allocations (the default 700 scans far too often for
a process that allocates a few dozen objects per request)."""


SWITCH_INTERVAL = 0.001
"""Seconds a thread holds the GIL while another waits for it (Python's default: 0.005)."""


def tune_process() -> None:
    """Leave what the process holds now out of every later collection, collect young
    objects less often, and hand the GIL over sooner (see the module's docstring)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLD)
    sys.setswitchinterval(SWITCH_INTERVAL)


def run(main: Coroutine[Any, Any, T]) -> T:
    """:func:`asyncio.run` on the loop :func:`loop_factory` names."""
    tune_process()
    with asyncio.Runner(loop_factory=loop_factory()) as runner:
        return runner.run(main)
