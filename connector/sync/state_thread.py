"""All state-DB and source-file work of a run happens on one dedicated thread.

The event loop then only moves HTTP: a commit that waits for the disk (or for SQLite's
WAL checkpoint) never delays a paced request, and since a single thread does every
write there is no contention for SQLite's write lock inside the process.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")


class StateThread:
    def __init__(self) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sticky-state")

    async def call(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """Run ``fn`` on the state thread, with the caller's context variables (so log
        lines written there carry the run's bound tenant, source and run id)."""
        loop = asyncio.get_running_loop()
        context = contextvars.copy_context()
        return await loop.run_in_executor(
            self._executor, partial(context.run, fn, *args, **kwargs))

    def close(self) -> None:
        self._executor.shutdown(wait=True)
