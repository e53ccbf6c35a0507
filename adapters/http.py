"""HTTP for source adapters (Shopify, the described POS APIs): the same status table,
``Retry-After`` parser and tenacity policy as the Sticky and Sticker clients
(``connector/http/``), synchronous because adapters run on their own reader thread.

Every failure ends as one of the engine's errors, naming the source, the request and the
host: :class:`~connector.errors.AuthenticationFailed` (credentials refused: retrying
cannot help), :class:`~connector.errors.SourceUnreadable` (a 4xx, an answer that is not
what was asked, or transient failures that outlasted the policy).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any, TypeVar
from urllib.parse import urlsplit

import structlog

from connector.errors import (
    AuthenticationFailed,
    RejectedByTarget,
    Retryable,
    SourceUnreadable,
)
from connector.http.lib import httpx
from connector.http.responses import raise_for_response, read_error_body, transport_errors
from connector.http.retry import AttemptLog, RetryPolicy, call_with_retry_sync
from connector.redact import scrub

log = structlog.get_logger("adapters.http")

T = TypeVar("T")

USER_AGENT = "sticky-sync/0.1"

SOURCE_POLICY = RetryPolicy(max_attempts=5, budget_seconds=300.0, backoff_multiplier=0.5,
                            backoff_max=30.0)
"""Sources are polled, not pushed to: a slower backoff than the targets', and a run
gives up on a source after five failed attempts at one request (429 waits excepted)."""


def host_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.netloc or url


class SourceHttp:
    """One source's HTTP client: ``request`` returns a 2xx answer or raises."""

    def __init__(self, source: str, *, base_url: str = "",
                 headers: Mapping[str, str] | None = None,
                 auth: httpx.Auth | None = None, timeout_seconds: float = 30.0,
                 policy: RetryPolicy = SOURCE_POLICY,
                 sleep: Callable[[float], None] = time.sleep,
                 transport: httpx.BaseTransport | None = None,
                 credentials_hint: str = "",
                 on_retry: Callable[[Retryable, float], None] | None = None) -> None:
        """``credentials_hint``: what to check when the credentials are refused (the
        environment variables that hold them), appended to that error. ``on_retry(error,
        wait)``: told of each retry the policy decided (after it is logged), e.g. to count
        throttled answers apart from failures."""
        self.source = source
        self.policy = policy
        self.credentials_hint = credentials_hint
        self.requests = 0
        self.retries = 0
        self._sleep = sleep
        self._on_retry = on_retry
        self._client = httpx.Client(
            base_url=base_url, auth=auth, timeout=timeout_seconds, transport=transport,
            headers={"Accept": "application/json", "User-Agent": USER_AGENT,
                     **(headers or {})})

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> SourceHttp:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def client(self) -> httpx.Client:
        """The underlying client, for a ``send`` given to :meth:`call` that must read the
        answer itself (a streamed download, statuses with source-specific meanings); use
        :func:`~connector.http.responses.transport_errors` and
        :func:`~connector.http.responses.raise_for_response` there."""
        return self._client

    def url(self, path: str) -> str:
        return str(self._client.base_url.join(path)) if path.startswith("/") else path

    def request(self, method: str, url: str, *, what: str,
                params: Mapping[str, str] | None = None, data: Mapping[str, str] | None = None,
                content: bytes | str | None = None,
                headers: Mapping[str, str] | None = None,
                check: Callable[[httpx.Response], None] | None = None,
                refused: frozenset[int] = frozenset()) -> httpx.Response:
        """Send until a 2xx answer passes ``check`` (which may raise a
        :class:`Retryable` for an answer that says "try again" in its body).
        ``refused``: statuses that mean "credentials refused" here besides 401 and 403
        (a token endpoint answers a wrong client with 400, RFC 6749 §5.2)."""

        def send() -> httpx.Response:
            self.requests += 1
            with transport_errors(f"{what} ({host_of(self.url(url))})"):
                # params=None keeps a next URL's own query (an empty dict would drop it)
                response = self._client.request(
                    method, url, params=dict(params) if params else None,
                    data=dict(data) if data else None, content=content,
                    headers=dict(headers) if headers else None)
            if response.status_code in refused:
                body = read_error_body(response)
                raise AuthenticationFailed(
                    f"{what}: refused ({response.status_code} {body.code or 'error'}: "
                    f"{scrub(body.message or response.reason_phrase)})")
            raise_for_response(response, what)
            if check is not None:
                check(response)
            return response

        return self.call(send, what, url)

    def call(self, send: Callable[[], T], what: str, url: str = "") -> T:
        """Run ``send`` under the retry policy; map what is left to the engine's errors."""
        attempts = AttemptLog()
        where = host_of(self.url(url)) if url else ""
        label = f"source {self.source}: {what}" + (f" ({where})" if where else "")
        try:
            return call_with_retry_sync(send, self.policy, attempts, sleep=self._sleep,
                                        on_retry=self._retrying(label))
        except Retryable as exc:
            raise SourceUnreadable(
                f"{label}: still failing after {attempts.attempts} attempts "
                f"({attempts.rate_limited} rate-limited): {scrub(str(exc))}") from exc
        except AuthenticationFailed as exc:
            if str(exc).startswith(f"source {self.source}:"):
                raise  # already said in full (a token request inside this one)
            hint = f"; check {self.credentials_hint}" if self.credentials_hint else ""
            raise AuthenticationFailed(
                f"{label}: the source refused the credentials "
                f"({_status_text(exc)}){hint}") from exc
        except RejectedByTarget as exc:
            raise SourceUnreadable(f"{label}: {_status_text(exc)}") from exc

    def _retrying(self, label: str) -> Callable[[Retryable, float], None]:
        def note(exc: Retryable, wait: float) -> None:
            self.retries += 1
            log.warning("source request failed; retrying", request=label,
                        error=scrub(str(exc)), wait_seconds=round(wait, 2))
            if self._on_retry is not None:
                self._on_retry(exc, wait)
        return note


def _status_text(exc: Exception) -> str:
    """The part of a response error after ``what: `` (status, code, message)."""
    text = scrub(str(exc))
    for marker in ("rejected by the target (", "refused the credentials (", "refused ("):
        if marker in text:
            return text.split(marker, 1)[1].removesuffix(")")
    return text


def json_body(response: httpx.Response, label: str) -> Any:
    """The answer's JSON, or :class:`SourceUnreadable` saying what came instead."""
    try:
        return response.json()
    except ValueError as exc:
        raise SourceUnreadable(
            f"{label}: the answer ({response.headers.get('content-type', 'no content type')})"
            f" is not JSON: {scrub(response.text[:120])!r}") from exc
