"""One exception hierarchy, grouped by what the engine does about it.

::

    StickySyncError
    ├── ConfigurationError        fix the config; exit 2 before any work
    ├── AbortRun                  stop this run, keep the cursor where it is
    │   ├── AuthenticationFailed      the target refused our key (401/403)
    │   ├── TargetUnavailable         retries exhausted on network errors / 5xx
    │   ├── SourceUnreadable          the source cannot be read as configured
    │   └── StateUnavailable          the state DB cannot be opened or used
    ├── Retryable                 back off and try the same request again
    │   ├── RateLimited               429, honour Retry-After
    │   ├── ServerError               5xx, 408, 425
    │   └── NetworkError              connect/read/protocol errors, dropped connections
    ├── WebhookRefused            an incoming webhook failed verification: answer 400,
    │                             store nothing, change nothing
    └── RecordProblem             settle this record, go on with the rest
        ├── SkipRecord                deliberately not sent (cancelled order, stale row...)
        ├── InvalidRecord             the source data cannot be trusted (rejected)
        ├── MissingDependency         needs something not delivered yet (quarantined)
        ├── RejectedByTarget          the target answered 4xx for it (quarantined)
        └── GaveUp                    transient failures outlasted the retries while the
                                      target served other requests (quarantined, its
                                      ledger row stays pending; replayed with backoff)

Lower-layer exceptions (httpx, sqlalchemy, csv) are mapped to these once, at the
boundary that sees them, with ``raise ... from exc``.
"""

from __future__ import annotations


class StickySyncError(Exception):
    """Root of every error this project raises on purpose."""


class ConfigurationError(StickySyncError):
    """The configuration is invalid; ``problems`` lists each one as ``key: what is wrong``."""

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or []

    def __str__(self) -> str:
        if not self.problems:
            return super().__str__()
        return super().__str__() + "\n" + "\n".join(f"  - {p}" for p in self.problems)


class AbortRun(StickySyncError):
    """The run cannot go on; nothing past the last settled position is checkpointed."""


class AuthenticationFailed(AbortRun):
    pass


class TargetUnavailable(AbortRun):
    pass


class SourceUnreadable(AbortRun):
    pass


class StateUnavailable(AbortRun):
    """The state DB cannot be opened or used (a local problem: locked, corrupt, written
    by a newer version, unreachable); the message names the DB and what to do."""


class LeaseLost(AbortRun):
    """Another process took this run's source over (this one was paused or cut off past
    its lease): it stops before its next request, and its writes are refused."""


class Retryable(StickySyncError):
    """A transient failure: the same request may succeed later.

    ``retry_after`` (seconds) is set when the server said how long to wait.
    """

    def __init__(self, message: str, *, retry_after: float | None = None,
                 status: int | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.status = status


class RateLimited(Retryable):
    pass


class ServerError(Retryable):
    pass


class NetworkError(Retryable):
    pass


class WebhookRefused(StickySyncError):
    """An incoming webhook delivery that is not provably Sticky's, or not well formed;
    ``reason`` is a short stable code (``bad_signature``, ``stale_timestamp``...)."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class RecordProblem(StickySyncError):
    """This record cannot be delivered as it is; it is settled with ``reason``.

    ``reason`` is a short stable code (``invalid_phone``, ``unknown_order``...) used in
    summaries and for filtering; the message names the record and the field.
    """

    def __init__(self, reason: str, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.field = field


class SkipRecord(RecordProblem):
    pass


class InvalidRecord(RecordProblem):
    pass


class MissingDependency(RecordProblem):
    pass


class RejectedByTarget(RecordProblem):
    def __init__(self, reason: str, message: str, *, status: int,
                 field: str | None = None) -> None:
        super().__init__(reason, message, field=field)
        self.status = status


class GaveUp(RecordProblem):
    """Retries exhausted for this payload (or one it depends on) while the target kept
    answering others: not an outage, so the run goes on without it."""
