"""No state-DB work runs on the event loop. Async code reaches the state DB in one of
two ways, both off the loop:

- a source pass's runner and sender, through their :class:`StateThread`: all state-DB
  and source-file work of the pass happens on that one dedicated thread, in order. The
  event loop then only moves HTTP: a commit that waits for the disk (or for SQLite's WAL
  checkpoint) never delays a paced request, and since a single thread does every write
  of the pass there is no contention for SQLite's write lock inside it;
- everything else (leases, run records, replay bookkeeping, the Sticker and passes
  steps, the daemon and its webhooks), through :func:`off_loop`: a worker thread per
  call, so a locked DB stalls neither the loop nor one another.

``tests/sync/test_off_loop.py`` fails when a statement runs on a thread that runs an
event loop.

Source adapters are read on a thread of their own (:class:`ReaderThread`), so a slow
page or a backoff sleep between a source's retries never holds up settlement; what an
adapter asks of the state DB is run on the state thread (:meth:`StateThread.run_sync`).
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import queue
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")


async def off_loop(fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
    """Run ``fn`` (state-DB work) on a worker thread, with the caller's context variables
    (log lines keep the run's tenant, source and run id), and await its result."""
    return await asyncio.to_thread(fn, *args, **kwargs)


async def off_loop_shielded(fn: Callable[P, T], /, *args: P.args,
                            **kwargs: P.kwargs) -> T:
    """:func:`off_loop` for work that must finish even when the caller is cancelled
    meanwhile (a lease release, the record of a cancelled run): the caller stops
    waiting, the thread completes it."""
    return await asyncio.shield(off_loop(fn, *args, **kwargs))


class _Worker:
    """One named worker thread, called from the event loop with the caller's context
    variables (so log lines written there carry the run's tenant, source and run id)."""

    def __init__(self, name: str) -> None:
        self._local = threading.local()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name,
                                            initializer=self._mark)

    def _mark(self) -> None:
        self._local.mine = True

    def on_it(self) -> bool:
        return bool(getattr(self._local, "mine", False))

    async def call(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        loop = asyncio.get_running_loop()
        context = contextvars.copy_context()
        return await loop.run_in_executor(
            self._executor, partial(context.run, fn, *args, **kwargs))


class StateThread(_Worker):
    def __init__(self) -> None:
        super().__init__("sticky-state")

    def run_sync(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """Run ``fn`` on the state thread from another thread (a source's reader) and
        wait for it; called on the state thread itself, just run it."""
        if self.on_it():
            return fn(*args, **kwargs)
        context = contextvars.copy_context()
        return self._executor.submit(partial(context.run, fn, *args, **kwargs)).result()

    def close(self) -> None:
        self._executor.shutdown(wait=True)


class ReaderThread:
    """Where a source adapter's ``read`` generator runs: one daemon thread, so that a read
    blocked in a source's backoff sleep when the run ends (a drain, a cancel, an error
    elsewhere) never keeps the process from exiting."""

    def __init__(self) -> None:
        self._jobs: queue.SimpleQueue[Callable[[], None] | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._work, name="sticky-read", daemon=True)
        self._thread.start()

    def _work(self) -> None:
        while (job := self._jobs.get()) is not None:
            job()

    async def call(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        context = contextvars.copy_context()

        def settle(outcome: Callable[[], None]) -> None:
            if not future.done():
                outcome()

        def hand_over(outcome: Callable[[], None]) -> None:
            # a RuntimeError: the run is over and its loop closed; nobody waits
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(settle, outcome)

        def job() -> None:
            try:
                result = context.run(fn, *args, **kwargs)
            except BaseException as exc:  # noqa: BLE001 - handed to the awaiting task
                hand_over(partial(future.set_exception, exc))
            else:
                hand_over(partial(future.set_result, result))

        self._jobs.put(job)
        return await future

    def close(self) -> None:
        # A read blocked in a source's backoff sleep is not waited for: the run is over
        # (its batch was never planned), and the daemon thread ends with the sleep or
        # with the process.
        self._jobs.put(None)
