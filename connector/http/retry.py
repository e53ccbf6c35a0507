"""Retrying one request: jittered exponential backoff on transient failures, the server's
``Retry-After`` when it gave one. One policy for every client: the async targets
(:func:`call_with_retry`) and the synchronous source adapters
(:func:`call_with_retry_sync`).

Waits caused by rate limiting (429) do not count as failed attempts: only the overall
time budget bounds them. A fresh retrying object is built per call because tenacity's
retry objects keep per-call state and are not safe to share between concurrent calls;
the async path builds it only once a first attempt failed (most calls succeed at once,
and setting tenacity up cost about as much CPU as the request itself), and hands it that
failure as its own first attempt, so the waits, counts and budget are tenacity's as if
it had run the first attempt itself.
"""

from __future__ import annotations

import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from tenacity import (
    AsyncRetrying,
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    wait_exponential_jitter,
)

from connector.errors import RateLimited, Retryable

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    max_attempts: int = 8
    budget_seconds: float = 300.0
    backoff_multiplier: float = 0.25
    backoff_max: float = 10.0
    sleep: Callable[[float], Awaitable[None]] | None = None
    """Async callers: the sleep to use (tests); sync callers pass theirs to the call."""


@dataclass(slots=True)
class AttemptLog:
    attempts: int = 0
    failures: int = 0
    rate_limited: int = 0
    last_wait: float = 0.0


def _controls(policy: RetryPolicy, attempts: AttemptLog,
              on_retry: Callable[[Retryable, float], None] | None, started: float
              ) -> dict[str, Any]:
    """tenacity's ``retry``/``stop``/``wait`` arguments for ``policy``; the budget counts
    from ``started`` (``time.monotonic()`` before the first attempt)."""
    backoff = wait_exponential_jitter(multiplier=policy.backoff_multiplier,
                                      max=policy.backoff_max, jitter=policy.backoff_multiplier)

    def _stop(state: RetryCallState) -> bool:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, RateLimited):
            attempts.rate_limited += 1
        else:
            attempts.failures += 1
        return (attempts.failures >= policy.max_attempts
                or time.monotonic() - started >= policy.budget_seconds)

    def _wait(state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, Retryable) and exc.retry_after is not None:
            # A small jitter keeps many waiting requests from returning in one burst.
            wait = exc.retry_after + random.uniform(0, 0.05)
        else:
            wait = float(backoff(state))
        attempts.last_wait = wait
        return wait

    def _before_sleep(state: RetryCallState) -> None:
        # tenacity decides the wait before it decides to stop: only a wait that is
        # really slept is a retry
        exc = state.outcome.exception() if state.outcome else None
        if on_retry is not None and isinstance(exc, Retryable):
            on_retry(exc, attempts.last_wait)

    return {"retry": retry_if_exception_type(Retryable), "stop": _stop, "wait": _wait,
            "before_sleep": _before_sleep, "reraise": True}


async def call_with_retry(send: Callable[[], Awaitable[T]], policy: RetryPolicy,
                          log: AttemptLog | None = None, *,
                          on_retry: Callable[[Retryable, float], None] | None = None) -> T:
    """Run ``send`` until it succeeds, raises a non-retryable error, or the policy stops.

    On stop the last :class:`Retryable` is re-raised as is.
    """
    attempts = log if log is not None else AttemptLog()
    started = time.monotonic()
    attempts.attempts += 1
    try:
        return await send()
    except Retryable as exc:
        failed: list[Retryable] = [exc]
    retrying = AsyncRetrying(**_controls(policy, attempts, on_retry, started))
    if policy.sleep is not None:
        retrying = retrying.copy(sleep=policy.sleep)
    async for attempt in retrying:
        with attempt:
            if failed:  # tenacity's first attempt is the one that failed above
                raise failed.pop()
            attempts.attempts += 1
            return await send()
    raise AssertionError("unreachable: tenacity either returned or raised")


def call_with_retry_sync(send: Callable[[], T], policy: RetryPolicy,
                         log: AttemptLog | None = None, *,
                         sleep: Callable[[float], None] = time.sleep,
                         on_retry: Callable[[Retryable, float], None] | None = None) -> T:
    """:func:`call_with_retry` for synchronous callers (the source adapters, which run on
    their own reader thread)."""
    attempts = log if log is not None else AttemptLog()
    for attempt in Retrying(sleep=sleep, **_controls(policy, attempts, on_retry,
                                                     time.monotonic())):
        with attempt:
            attempts.attempts += 1
            return send()
    raise AssertionError("unreachable: tenacity either returned or raised")
