"""The retry policy: backoff on transient failures, Retry-After honoured, 429 waits not
counted as attempts, other errors not retried."""

from __future__ import annotations

import asyncio

import pytest

from connector.errors import NetworkError, RateLimited, RejectedByTarget, ServerError
from connector.http.retry import AttemptLog, RetryPolicy, call_with_retry


class Script:
    """Raises the given errors in turn, then returns "ok"; records the sleeps asked for."""

    def __init__(self, *errors: Exception) -> None:
        self.errors = list(errors)
        self.calls = 0
        self.sleeps: list[float] = []

    async def send(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "ok"

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)


def policy(script: Script, **kwargs: float) -> RetryPolicy:
    return RetryPolicy(sleep=script.sleep, **kwargs)  # type: ignore[arg-type]


async def test_transient_failures_are_retried_until_success() -> None:
    script = Script(NetworkError("reset"), ServerError("502", status=502),
                    ServerError("503", retry_after=2.0, status=503))
    log = AttemptLog()
    assert await call_with_retry(script.send, policy(script), log) == "ok"
    assert (script.calls, log.attempts, log.failures) == (4, 4, 3)
    assert 2.0 <= script.sleeps[2] <= 2.06  # Retry-After, plus a little jitter


async def test_rate_limited_waits_do_not_count_as_attempts() -> None:
    script = Script(*[RateLimited("429", retry_after=0.5, status=429) for _ in range(5)])
    log = AttemptLog()
    assert await call_with_retry(script.send, policy(script, max_attempts=2), log) == "ok"
    assert (log.rate_limited, log.failures) == (5, 0)
    assert all(0.5 <= s <= 0.56 for s in script.sleeps)


async def test_gives_up_after_max_attempts_with_the_last_error() -> None:
    script = Script(*[ServerError(f"500 #{i}", status=500) for i in range(10)])
    with pytest.raises(ServerError, match="#2"):
        await call_with_retry(script.send, policy(script, max_attempts=3))
    assert script.calls == 3
    assert len(script.sleeps) == 2  # a sleep between attempts, none after the last


async def test_a_rejected_payload_is_not_retried() -> None:
    script = Script(RejectedByTarget("invalid_phone", "bad", status=400))
    with pytest.raises(RejectedByTarget):
        await call_with_retry(script.send, policy(script))
    assert script.calls == 1 and script.sleeps == []


async def test_backoff_grows_and_is_jittered() -> None:
    script = Script(*[NetworkError("down") for _ in range(6)])
    await call_with_retry(script.send, policy(script, max_attempts=8,
                                              backoff_multiplier=0.5, backoff_max=60))
    assert script.sleeps[-1] > script.sleeps[0]
    assert all(s > 0 for s in script.sleeps)


async def test_a_single_failure_then_success_is_one_retry_said_once() -> None:
    script = Script(ServerError("502", retry_after=0.25, status=502))
    said: list[tuple[str, float]] = []
    log = AttemptLog()
    result = await call_with_retry(script.send, policy(script), log,
                                   on_retry=lambda exc, wait: said.append((str(exc), wait)))
    assert result == "ok"
    assert (script.calls, log.attempts, log.failures) == (2, 2, 1)
    assert len(script.sleeps) == 1 and 0.25 <= script.sleeps[0] <= 0.31
    assert said == [("502", script.sleeps[0])]


async def test_a_first_attempt_that_fails_once_with_max_attempts_1_is_not_retried() -> None:
    script = Script(NetworkError("reset"))
    with pytest.raises(NetworkError, match="reset"):
        await call_with_retry(script.send, policy(script, max_attempts=1))
    assert script.calls == 1 and script.sleeps == []


async def test_the_time_budget_counts_the_first_attempt() -> None:
    """A first attempt that took longer than the whole budget is not retried."""
    calls = 0

    async def slow_failure() -> str:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.2)
        raise NetworkError("timed out")

    script = Script()
    with pytest.raises(NetworkError):
        await call_with_retry(slow_failure, policy(script, budget_seconds=0.1))
    assert calls == 1 and script.sleeps == []
