"""Replaying quarantined records: on demand (``sticky-sync dlq retry``) and, for reasons
that can go away by themselves, automatically after a source's pass, with backoff.

A replay reads each record back from the copy kept with its issue and sends it through
the same plan/deliver/ledger path as a first read, so a record delivered meanwhile is
not sent twice. The issue row is the same one (same stream and locator): delivered, it
is resolved; refused again, it is updated and keeps its attempt count.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta

from adapters.base import Adapter, Batch, SourceState
from adapters.records import (
    CustomerRecord,
    LocationRecord,
    OrderRecord,
    Origin,
    RefundRecord,
    SourceRecord,
    UnreadableRecord,
    record_from_dict,
)
from state import StoredIssue

AUTO_RETRY_REASONS = ("unknown_customer", "unknown_order", "retries_exhausted")
"""Quarantine reasons that can clear without a person: the missing customer or order
arrives in a later read, the target recovers. Others wait for ``dlq retry``."""
AUTO_RETRY_MAX_ATTEMPTS = 10
"""After this many replays a record waits for a person (``dlq retry``)."""
AUTO_RETRY_LIMIT = 5_000
"""At most this many records replayed after one pass (the rest in the next ones)."""
BACKOFF_BASE = timedelta(minutes=5)
BACKOFF_MAX = timedelta(hours=6)

_RANK: dict[type, int] = {CustomerRecord: 0, OrderRecord: 1, RefundRecord: 2,
                          LocationRecord: 3}


def next_retry_at(attempts: int, now: datetime | None = None) -> datetime:
    """When the next automatic replay may run after ``attempts`` replays: 5 min, 10,
    20, ... capped at 6 h."""
    delay: timedelta = min(BACKOFF_BASE * 2 ** max(0, attempts - 1), BACKOFF_MAX)
    return (now or datetime.now(UTC)) + delay


def _rank(record: SourceRecord) -> int:
    # customers before orders before refunds: a replayed order finds its replayed customer
    return _RANK.get(type(record), 4)


def restore(issue: StoredIssue) -> SourceRecord:
    """The record kept with ``issue``; an unreadable copy becomes an UnreadableRecord
    (rejected with the reason), never dropped."""
    try:
        if issue.record is None:
            raise ValueError("no copy of the record was kept")
        return record_from_dict(issue.record)
    except ValueError as exc:
        return UnreadableRecord(
            origin=Origin(source=issue.source, stream=issue.stream, locator=issue.locator,
                          row=issue.row),
            reason="unreplayable", message=f"{issue.locator}: cannot replay: {exc}",
            raw=issue.raw)


class ReplayAdapter(Adapter):
    """Yields quarantined records (grouped by their cursor stream) without moving any
    cursor. ``resend_refused``: what the target refused before is sent again (a person
    asked for it); automatic replays leave refusals alone."""

    kind = "replay"

    def __init__(self, name: str, issues: Sequence[StoredIssue], *,
                 resend_refused: bool) -> None:
        super().__init__(name)
        self.issues = list(issues)
        self.replays = resend_refused

    def read(self, state: SourceState, batch_size: int) -> Iterator[Batch]:
        by_stream: dict[str, list[SourceRecord]] = {}
        for issue in self.issues:
            by_stream.setdefault(issue.stream, []).append(restore(issue))
        for stream, records in by_stream.items():
            records.sort(key=_rank)
            for start in range(0, len(records), batch_size):
                yield Batch(stream, records[start:start + batch_size], {},
                            moves_cursor=False)


class FollowedByReplays(Adapter):
    """A source's own read, then the replay of its due quarantined records (after the
    read, so that a customer or order arriving in it is known by then)."""

    def __init__(self, first: Adapter, replay: ReplayAdapter) -> None:
        super().__init__(first.name)
        self.kind = first.kind
        self.first = first
        self.replay = replay
        self.notices = first.notices
        self.remarks = first.remarks
        self.attention = first.attention
        self.waiting = first.waiting

    def read(self, state: SourceState, batch_size: int) -> Iterator[Batch]:
        yield from self.first.read(state, batch_size)
        yield from self.replay.read(state, batch_size)
