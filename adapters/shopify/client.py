"""One GraphQL call to the Shopify Admin API, with Shopify's throttling rules.

- Cost-aware pacing: every response's ``extensions.cost.throttleStatus`` feeds a local
  model of the leaky bucket; before a query whose cost (as last seen) exceeds what the
  bucket holds now, we wait ``(cost - available) / restoreRate``.
- ``THROTTLED`` arrives as HTTP 200 with ``errors`` or as HTTP 429: both wait the same way
  and retry; such waits are not failed attempts.
- 5xx, ``INTERNAL_SERVER_ERROR`` and network errors are retried with jittered
  exponential backoff, ``max_attempts`` times, then the run aborts (``SourceUnreadable``).
- ``MAX_COST_EXCEEDED`` raises :class:`CostExceeded` so the caller can shrink the page.
- 401/402/403/404/423 and GraphQL errors such as a field the version does not have abort
  the run with the reason: retrying cannot fix them.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx2 as httpx
import structlog
from pydantic import SecretStr

from connector.errors import SourceUnreadable
from connector.redact import scrub

log = structlog.get_logger("adapters.shopify")

_FATAL_STATUSES = {401: "the access token was refused", 402: "the shop is frozen (unpaid)",
                   403: "access denied", 404: "the shop does not exist",
                   423: "the shop is locked"}


class QueryRefused(SourceUnreadable):
    """Shopify answered a query with GraphQL errors; ``codes`` are their
    ``extensions.code`` values (``ACCESS_DENIED``...)."""

    def __init__(self, message: str, codes: frozenset[str]) -> None:
        super().__init__(message)
        self.codes = codes


class CostExceeded(Exception):
    """The query's requested cost is over Shopify's single-query maximum."""

    def __init__(self, cost: float | None) -> None:
        super().__init__(f"query cost {cost} exceeds the single query max cost")
        self.cost = cost


@dataclass(slots=True)
class CostBucket:
    """What we know of the shop's leaky bucket, from the last response."""

    maximum: float = 1000.0
    available: float = 1000.0
    restore_rate: float = 50.0
    seen_at: float = field(default_factory=time.monotonic)

    def update(self, status: Mapping[str, Any]) -> None:
        try:
            self.maximum = float(status["maximumAvailable"])
            self.available = float(status["currentlyAvailable"])
            self.restore_rate = max(1.0, float(status["restoreRate"]))
        except (KeyError, TypeError, ValueError):
            return
        self.seen_at = time.monotonic()

    def wait_for(self, cost: float) -> float:
        """Seconds to wait until ``cost`` points are available."""
        now_available = min(self.maximum, self.available
                            + (time.monotonic() - self.seen_at) * self.restore_rate)
        return max(0.0, (min(cost, self.maximum) - now_available) / self.restore_rate)


@dataclass(frozen=True, slots=True)
class Answer:
    data: dict[str, Any]
    requested_cost: float | None


@dataclass(slots=True)
class CallStats:
    requests: int = 0
    throttled: int = 0
    retried: int = 0
    waited_seconds: float = 0.0


class ShopifyGraphQL:
    def __init__(self, endpoint: str, api_version: str, token: SecretStr, *,
                 timeout_seconds: float = 30.0, max_attempts: int = 6,
                 sleep: Callable[[float], None] = time.sleep,
                 transport: httpx.BaseTransport | None = None) -> None:
        self.url = f"{endpoint}/admin/api/{api_version}/graphql.json"
        self.api_version = api_version
        self.max_attempts = max_attempts
        self.bucket = CostBucket()
        self.stats = CallStats()
        self._sleep = sleep
        self._costs: dict[str, float] = {}
        self._http = httpx.Client(
            timeout=timeout_seconds, transport=transport,
            headers={"X-Shopify-Access-Token": token.get_secret_value(),
                     "Content-Type": "application/json", "User-Agent": "sticky-sync/0.1"})
        # Bulk results are signed URLs on another host: the token must not go there.
        self._files = httpx.Client(timeout=120.0, transport=transport,
                                   headers={"User-Agent": "sticky-sync/0.1"})

    def close(self) -> None:
        self._http.close()
        self._files.close()

    def __enter__(self) -> ShopifyGraphQL:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def download(self, url: str, into: Any) -> None:
        """Stream a bulk result (a signed URL: no token needed, none sent) into a file."""
        for attempt in range(1, self.max_attempts + 1):
            try:
                with self._files.stream("GET", url) as response:
                    if response.status_code >= 500 and attempt < self.max_attempts:
                        self._backoff(attempt, f"HTTP {response.status_code}")
                        continue
                    if response.status_code != 200:
                        raise SourceUnreadable(
                            f"Shopify bulk result download: HTTP {response.status_code}")
                    for chunk in response.iter_bytes():
                        into.write(chunk)
                    return
            except httpx.TransportError as exc:
                if attempt == self.max_attempts:
                    raise SourceUnreadable(f"Shopify bulk result download: {exc}") from exc
                into.seek(0)
                into.truncate()
                self._backoff(attempt, type(exc).__name__)

    def execute(self, name: str, query: str, variables: Mapping[str, Any] | None = None
                ) -> Answer:
        """Run ``query`` (``name`` keys its last seen cost) and return ``data``."""
        failures = 0
        body = {"query": query, "variables": dict(variables or {})}
        while True:
            self._pace(name)
            self.stats.requests += 1
            try:
                response = self._http.post(self.url, content=json.dumps(body))
            except httpx.TransportError as exc:
                failures += 1
                self._give_up_or_wait(failures, f"{type(exc).__name__}: {exc}")
                continue
            outcome = self._read(name, response)
            if isinstance(outcome, Answer):
                return outcome
            if outcome == "throttled":
                continue
            failures += 1
            self._give_up_or_wait(failures, outcome)

    # -- internals ----------------------------------------------------------------------
    def _pace(self, name: str) -> None:
        wait = self.bucket.wait_for(self._costs.get(name, 0.0))
        if wait > 0:
            self.stats.waited_seconds += wait
            self._sleep(wait)

    def _read(self, name: str, response: httpx.Response) -> Answer | str:
        """The answer, ``"throttled"`` (waited already), or a retryable failure text."""
        status = response.status_code
        if status in _FATAL_STATUSES:
            raise SourceUnreadable(f"Shopify answered {status}: {_FATAL_STATUSES[status]} "
                                   f"({scrub(response.text[:200])})")
        payload = _json(response)
        cost = payload.get("extensions", {}).get("cost", {}) if payload else {}
        if isinstance(cost, dict):
            throttle = cost.get("throttleStatus")
            if isinstance(throttle, dict):
                self.bucket.update(throttle)
            requested = cost.get("requestedQueryCost")
            if isinstance(requested, int | float):
                self._costs[name] = float(requested)
        errors = payload.get("errors") if payload else None
        codes = _codes(errors)
        if status == 429 or "THROTTLED" in codes:
            self.stats.throttled += 1
            wait = max(self.bucket.wait_for(self._costs.get(name, 0.0)),
                       _retry_after(response), 0.5)
            log.info("shopify throttled", query=name, wait_seconds=round(wait, 2),
                     status=status)
            self.stats.waited_seconds += wait
            self._sleep(wait)
            return "throttled"
        if status >= 500:
            return f"HTTP {status}"
        if status != 200 or payload is None:
            raise SourceUnreadable(f"Shopify answered {status} with "
                                   f"{'no JSON body' if payload is None else 'an error'}: "
                                   f"{scrub(response.text[:200])}")
        if "MAX_COST_EXCEEDED" in codes:
            raise CostExceeded(_max_cost(errors))
        if "INTERNAL_SERVER_ERROR" in codes:
            return "INTERNAL_SERVER_ERROR"
        if errors:
            raise QueryRefused(f"Shopify refused query {name}: {_messages(errors)}",
                               frozenset(codes))
        data = payload.get("data")
        if not isinstance(data, dict):
            raise SourceUnreadable(f"Shopify query {name}: the answer has no data")
        return Answer(data, self._costs.get(name))

    def _give_up_or_wait(self, failures: int, what: str) -> None:
        if failures >= self.max_attempts:
            raise SourceUnreadable(f"Shopify did not answer after {failures} attempts "
                                   f"(last: {scrub(what)})")
        self._backoff(failures, what)

    def _backoff(self, attempt: int, what: str) -> None:
        self.stats.retried += 1
        wait = min(30.0, 0.5 * 2 ** (attempt - 1)) * random.uniform(0.5, 1.0)
        log.warning("shopify request failed; retrying", attempt=attempt,
                    wait_seconds=round(wait, 2), error=scrub(what))
        self._sleep(wait)


def _json(response: httpx.Response) -> dict[str, Any] | None:
    try:
        data = response.json()
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def _codes(errors: object) -> set[str]:
    if not isinstance(errors, list):
        return set()
    found: set[str] = set()
    for error in errors:
        if isinstance(error, dict) and isinstance(error.get("extensions"), dict):
            code = error["extensions"].get("code")
            if isinstance(code, str):
                found.add(code)
        if isinstance(error, dict) and error.get("message") == "Throttled":
            found.add("THROTTLED")
    return found


def _messages(errors: object) -> str:
    if isinstance(errors, str):
        return scrub(errors)
    if not isinstance(errors, list):
        return "unknown error"
    return "; ".join(scrub(str(e.get("message", e))) if isinstance(e, dict) else str(e)
                     for e in errors[:5])


def _max_cost(errors: object) -> float | None:
    for error in errors if isinstance(errors, list) else []:
        extensions = error.get("extensions") if isinstance(error, dict) else None
        if isinstance(extensions, dict) and isinstance(extensions.get("cost"), int | float):
            return float(extensions["cost"])
    return None


def _retry_after(response: httpx.Response) -> float:
    try:
        return float(response.headers.get("Retry-After", "0"))
    except ValueError:
        return 0.0
