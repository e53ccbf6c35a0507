"""One GraphQL call to the Shopify Admin API, with Shopify's throttling rules, on the
shared HTTP layer (:class:`adapters.http.SourceHttp`: one status table, one
``Retry-After`` parser, one tenacity policy for every source).

- Cost-aware pacing: every response's ``extensions.cost.throttleStatus`` feeds a local
  model of the leaky bucket; before each attempt at a query whose cost (as last seen)
  exceeds what the bucket holds now, we wait ``(cost - available) / restoreRate``.
- ``THROTTLED`` arrives as HTTP 200 with ``errors`` or as HTTP 429. The 429 is
  :class:`~connector.errors.RateLimited` through the status table, waiting its
  ``Retry-After`` (or, without one, what the bucket says); the 200 is turned into the same
  ``RateLimited`` with the bucket's wait. Either way the shared policy waits and retries,
  and such waits are not failed attempts.
- 5xx (status table), ``INTERNAL_SERVER_ERROR`` (a 200, raised as
  :class:`~connector.errors.ServerError`) and network errors are retried by the shared
  policy (jittered exponential backoff, ``max_attempts`` failed attempts); then
  :class:`~connector.errors.SourceUnreadable` names the source, the query and the host.
- ``MAX_COST_EXCEEDED`` raises :class:`CostExceeded` so the caller can shrink the page.
- 401/403 raise :class:`~connector.errors.AuthenticationFailed`, 402/404/423 and other
  4xx :class:`~connector.errors.SourceUnreadable`, with what the status means at Shopify
  (the token was refused, the shop is frozen...); GraphQL errors such as a field the
  version does not have raise :class:`QueryRefused`. Retrying cannot fix them.
- Bulk results are signed URLs on another host: a second client without the token
  downloads them, retried by the same policy.

``stats`` counts requests, throttled answers, retries after failures and the seconds
waited for the bucket (pacing and throttling; backoff after failures is not counted).
``sleep`` is the one used for every wait, the policy's included (tests record the waits).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import IO, Any

import structlog
from pydantic import SecretStr

from adapters.http import SOURCE_POLICY, SourceHttp, host_of
from connector.errors import (
    AuthenticationFailed,
    RateLimited,
    Retryable,
    ServerError,
    SourceUnreadable,
)
from connector.http.lib import httpx
from connector.http.responses import raise_for_response, transport_errors
from connector.http.statuses import Action, action_for
from connector.redact import scrub

log = structlog.get_logger("adapters.shopify")

USER_AGENT = "sticky-sync/0.1"

FATAL_STATUSES = {401: "the access token was refused", 402: "the shop is frozen (unpaid)",
                  403: "access denied", 404: "the shop does not exist",
                  423: "the shop is locked"}
"""What these statuses mean at Shopify (any other 4xx: the request was refused); the
status table decides the error class: 401/403 AuthenticationFailed, the rest
SourceUnreadable."""

MIN_THROTTLE_WAIT = 0.5
"""A THROTTLED answer means our model of the bucket was wrong: wait at least this."""


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
    waited: float = 0.0
    """Seconds we waited since ``seen_at``: time that passed even when the sleep is a
    test's fake (the bucket refills during our waits)."""

    def update(self, status: Mapping[str, Any]) -> None:
        try:
            self.maximum = float(status["maximumAvailable"])
            self.available = float(status["currentlyAvailable"])
            self.restore_rate = max(1.0, float(status["restoreRate"]))
        except (KeyError, TypeError, ValueError):
            return
        self.seen_at = time.monotonic()
        self.waited = 0.0

    def note_wait(self, seconds: float) -> None:
        self.waited += seconds

    def wait_for(self, cost: float) -> float:
        """Seconds to wait until ``cost`` points are available."""
        elapsed = max(time.monotonic() - self.seen_at, self.waited)
        now_available = min(self.maximum, self.available + elapsed * self.restore_rate)
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
                 transport: httpx.BaseTransport | None = None,
                 source: str = "shopify") -> None:
        """``source``: the source's name, for error messages. ``max_attempts``: failed
        attempts at one request before giving up (throttled answers are not failures)."""
        self.url = f"{endpoint}/admin/api/{api_version}/graphql.json"
        self.api_version = api_version
        self.source = source
        self.max_attempts = max_attempts
        self.policy = replace(SOURCE_POLICY, max_attempts=max_attempts)
        self.bucket = CostBucket()
        self.stats = CallStats()
        self.served_version: str | None = None
        """``X-Shopify-API-Version`` of the last answer: the version that really served it
        (Shopify falls forward silently from an unsupported one)."""
        self._sleep = sleep
        self._costs: dict[str, float] = {}
        self._decided: Retryable | None = None
        self._http = SourceHttp(
            source, headers={"X-Shopify-Access-Token": token.get_secret_value(),
                             "Content-Type": "application/json"},
            timeout_seconds=timeout_seconds, policy=self.policy, sleep=self._policy_sleep,
            transport=transport, on_retry=self._retried)
        # Bulk results are signed URLs on another host: the token must not go there.
        self._files = SourceHttp(source, headers={"Accept": "*/*"}, timeout_seconds=120.0,
                                 policy=self.policy, sleep=self._policy_sleep,
                                 transport=transport, on_retry=self._retried)

    def close(self) -> None:
        self._http.close()
        self._files.close()

    def __enter__(self) -> ShopifyGraphQL:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def download(self, url: str, into: IO[bytes]) -> None:
        """Stream a bulk result (a signed URL: no token needed, none sent) into a file,
        from its start again on each attempt."""
        what = "bulk result download"

        def send() -> None:
            into.seek(0)
            into.truncate()
            with transport_errors(f"{what} ({host_of(url)})"), \
                    self._files.client.stream("GET", url) as response:
                status = response.status_code
                if action_for(status) in (Action.REFUSED_CREDENTIALS, Action.REJECTED):
                    # A signed URL that is refused has expired or was mangled.
                    raise SourceUnreadable(
                        f"source {self.source}: Shopify {what} ({host_of(url)}): HTTP "
                        f"{status}: {scrub(response.read()[:200].decode(errors='replace'))}")
                if action_for(status) is not Action.OK:
                    response.read()
                    raise_for_response(response, what)
                for chunk in response.iter_bytes():
                    into.write(chunk)

        self._files.call(send, what, url)

    def execute(self, name: str, query: str, variables: Mapping[str, Any] | None = None
                ) -> Answer:
        """Run ``query`` (``name`` keys its last seen cost) and return ``data``."""
        body = json.dumps({"query": query, "variables": dict(variables or {})})
        what = f"query {name}"
        return self._http.call(lambda: self._attempt(name, what, body), what, self.url)

    # -- internals ----------------------------------------------------------------------
    def _attempt(self, name: str, what: str, body: str) -> Answer:
        """One attempt: the answer, or the error that says what to do next."""
        self._pace(name)
        self.stats.requests += 1
        with transport_errors(f"{what} ({host_of(self.url)})"):
            response = self._http.client.post(self.url, content=body)
        self.served_version = response.headers.get("X-Shopify-API-Version",
                                                   self.served_version)
        status = response.status_code
        if action_for(status) in (Action.REFUSED_CREDENTIALS, Action.REJECTED):
            raise self._refused(what, response)
        payload = _json(response)
        self._note_cost(name, payload)
        errors = payload.get("errors") if payload else None
        codes = _codes(errors)
        try:
            raise_for_response(response, what)  # 429 → RateLimited, 5xx → ServerError
        except RateLimited as exc:
            if exc.retry_after is None:  # no Retry-After: what the bucket says
                exc.retry_after = self._throttle_wait(name)
            raise
        if payload is None:
            raise SourceUnreadable(f"{self._label(what)}: Shopify answered {status} with no "
                                   f"JSON body: {scrub(response.text[:200])}")
        if "THROTTLED" in codes:
            raise RateLimited(f"{what}: THROTTLED (cost {self._costs.get(name)})",
                              retry_after=self._throttle_wait(name), status=status)
        if "MAX_COST_EXCEEDED" in codes:
            raise CostExceeded(_max_cost(errors))
        if "INTERNAL_SERVER_ERROR" in codes:
            raise ServerError(f"{what}: INTERNAL_SERVER_ERROR: {_messages(errors)}",
                              status=status)
        if errors:
            raise QueryRefused(f"Shopify refused query {name}: {_messages(errors)}",
                               frozenset(codes))
        data = payload.get("data")
        if not isinstance(data, dict):
            raise SourceUnreadable(f"Shopify query {name}: the answer has no data")
        return Answer(data, self._costs.get(name))

    def _label(self, what: str) -> str:
        return f"source {self.source}: {what} ({host_of(self.url)})"

    def _refused(self, what: str, response: httpx.Response) -> Exception:
        """A status retrying cannot fix (the status table says which), with what it
        means at Shopify."""
        status = response.status_code
        meaning = FATAL_STATUSES.get(status, "the request was refused")
        text = f"Shopify answered {status}: {meaning}: {scrub(response.text[:200])}"
        if action_for(status) is Action.REFUSED_CREDENTIALS:
            return AuthenticationFailed(text)  # SourceHttp.call adds source, query, host
        return SourceUnreadable(f"{self._label(what)}: {text}")

    def _note_cost(self, name: str, payload: dict[str, Any] | None) -> None:
        cost = payload.get("extensions", {}).get("cost", {}) if payload else {}
        if not isinstance(cost, dict):
            return
        throttle = cost.get("throttleStatus")
        if isinstance(throttle, dict):
            self.bucket.update(throttle)
        requested = cost.get("requestedQueryCost")
        if isinstance(requested, int | float):
            self._costs[name] = float(requested)

    def _throttle_wait(self, name: str) -> float:
        return max(self.bucket.wait_for(self._costs.get(name, 0.0)), MIN_THROTTLE_WAIT)

    def _pace(self, name: str) -> None:
        wait = self.bucket.wait_for(self._costs.get(name, 0.0))
        if wait > 0:
            self.stats.waited_seconds += wait
            self._wait(wait)

    def _wait(self, seconds: float) -> None:
        """Every wait (pacing, and the policy's): the injected sleep, and the bucket model
        told that this much time passed."""
        self.bucket.note_wait(seconds)
        self._sleep(seconds)

    def _retried(self, exc: Retryable, wait: float) -> None:
        """The policy decided a wait after ``exc``; it may still stop instead (the wait is
        decided before the stop), so what is counted is counted in :meth:`_policy_sleep`."""
        self._decided = exc

    def _policy_sleep(self, seconds: float) -> None:
        """The shared policy's sleep: a retry that really happens."""
        exc, self._decided = self._decided, None
        if isinstance(exc, RateLimited):
            self.stats.throttled += 1
            self.stats.waited_seconds += seconds
            log.info("shopify throttled", source=self.source, wait_seconds=round(seconds, 2),
                     status=exc.status)
        elif exc is not None:
            self.stats.retried += 1
        self._wait(seconds)


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
