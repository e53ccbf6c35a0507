"""The ledger's decision (connector/sync/decision.py), row by row of its truth table."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from connector.mapping.keys import idempotency_key
from connector.sync.decision import Decision, Verdict, decide
from state.ledger import EntryState, LedgerStatus, StagedEntry

PENDING, SENT, REJECTED = LedgerStatus.PENDING, LedgerStatus.SENT, LedgerStatus.REJECTED
NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
BORN = datetime(2026, 4, 1, 9, 30, tzinfo=UTC)
TENANT, WORKSPACE = "acme", "ws-1"
OLD_KEY = "ss1_old_key_of_the_pending_row"


def staged(kind: str, payload_hash: str = "h1") -> StagedEntry:
    return StagedEntry(workspace=WORKSPACE, kind=kind, key="src:1", source="src",
                       payload_hash=payload_hash, payload={},
                       idempotency_key=f"key-of-{payload_hash}")


def held(status: str, payload_hash: str = "h1", *, attempts: int = 1,
         key: str = OLD_KEY, error: str | None = None) -> EntryState:
    return EntryState(id=7, status=status, payload_hash=payload_hash, last_error=error,
                      idempotency_key=key, attempts=attempts, created_at=BORN)


RETRY_KEY = idempotency_key(TENANT, WORKSPACE, "order.completed", "src:1", "h1#retry3")


def after_old(kind: str) -> str:
    """The key of content h1 replacing what the row held under OLD_KEY."""
    return idempotency_key(TENANT, WORKSPACE, kind, "src:1", f"h1#after:{OLD_KEY}")


@dataclass(frozen=True)
class Row:
    name: str
    held: EntryState | None
    kind: str
    retry_rejected: bool
    expected: Decision


CUSTOMER, EVENT = "customer", "order.completed"
STAGE, UNCHANGED, REFUSED = Verdict.STAGE, Verdict.UNCHANGED, Verdict.REJECTED_EARLIER

TABLE = [
    # nothing in the ledger: new, under the key derived from the content
    Row("new customer", None, CUSTOMER, False, Decision(STAGE, "key-of-h1",
                                                      first_staged_at=NOW)),
    Row("new event", None, EVENT, False, Decision(STAGE, "key-of-h1")),
    Row("new event, replaying", None, EVENT, True, Decision(STAGE, "key-of-h1")),
    # sent with the same content: nothing to do
    Row("sent customer, same", held(SENT), CUSTOMER, False,
        Decision(UNCHANGED, first_staged_at=BORN)),
    Row("sent event, same", held(SENT), EVENT, False, Decision(UNCHANGED)),
    Row("sent event, same, replaying", held(SENT), EVENT, True, Decision(UNCHANGED)),
    # sent with other content: a customer is updated, an event is immutable
    Row("sent customer, changed", held(SENT, "h0"), CUSTOMER, False,
        Decision(STAGE, after_old(CUSTOMER), changed=True, first_staged_at=BORN)),
    Row("sent event, changed", held(SENT, "h0"), EVENT, False, Decision(UNCHANGED)),
    Row("sent event, changed, replaying", held(SENT, "h0"), EVENT, True,
        Decision(UNCHANGED)),
    # refused with the same content: not again, unless a replay asks for it (new key)
    Row("rejected event, same", held(REJECTED, attempts=3, error="400 bad"), EVENT, False,
        Decision(REFUSED, refusal="400 bad")),
    Row("rejected customer, same", held(REJECTED, error="400 bad"), CUSTOMER, False,
        Decision(REFUSED, refusal="400 bad", first_staged_at=NOW)),
    Row("rejected event, same, replaying", held(REJECTED, attempts=3), EVENT, True,
        Decision(STAGE, RETRY_KEY)),
    # refused, then changed at the source: the new content is sent as new, under a key
    # that depends on the one refused (content may come back to a version sent earlier)
    Row("rejected event, changed", held(REJECTED, "h0"), EVENT, False,
        Decision(STAGE, after_old(EVENT))),
    Row("rejected customer, changed", held(REJECTED, "h0", attempts=2), CUSTOMER, False,
        Decision(STAGE, after_old(CUSTOMER), first_staged_at=NOW)),
    # pending (staged by an earlier run, perhaps in flight when it died)
    Row("pending event, same, with key", held(PENDING), EVENT, False,
        Decision(STAGE, OLD_KEY)),
    Row("pending event, same, replaying", held(PENDING), EVENT, True,
        Decision(STAGE, OLD_KEY)),
    Row("pending event, same, no key", held(PENDING, key=""), EVENT, False,
        Decision(STAGE, "key-of-h1")),
    # an event changed while its first version may have been delivered: that version goes
    Row("pending event, changed", held(PENDING, "h0"), EVENT, False,
        Decision(Verdict.RESEND_HELD, OLD_KEY)),
    Row("pending event, changed, no key", held(PENDING, "h0", key=""), EVENT, False,
        Decision(STAGE, "key-of-h1")),
    Row("pending customer, changed", held(PENDING, "h0"), CUSTOMER, False,
        Decision(STAGE, after_old(CUSTOMER), first_staged_at=BORN)),
    Row("pending customer, changed, no key", held(PENDING, "h0", key=""), CUSTOMER, False,
        Decision(STAGE, "key-of-h1", first_staged_at=BORN)),
    # a customer's first_staged_at: the row's birth once an attempt may have created it
    Row("pending customer, attempted", held(PENDING, attempts=2), CUSTOMER, False,
        Decision(STAGE, OLD_KEY, first_staged_at=BORN)),
    Row("pending customer, never attempted", held(PENDING, attempts=0), CUSTOMER, False,
        Decision(STAGE, OLD_KEY, first_staged_at=NOW)),
    Row("pending customer, failed attempts", held(PENDING, attempts=4, error="timeout"),
        CUSTOMER, False, Decision(STAGE, OLD_KEY, first_staged_at=BORN)),
]


@pytest.mark.parametrize("row", TABLE, ids=[r.name for r in TABLE])
def test_decision_table(row: Row) -> None:
    decision = decide(row.held, staged(row.kind), tenant=TENANT,
                      retry_rejected=row.retry_rejected, now=NOW)
    assert decision == row.expected


def test_retry_key_differs_per_refusal_count() -> None:
    """Each replay of a refused payload gets a key of its own (the attempts count)."""
    keys = {decide(held(REJECTED, attempts=n), staged(EVENT), tenant=TENANT,
                   retry_rejected=True, now=NOW).idempotency_key for n in (1, 2, 3)}
    assert len(keys) == 3 and "key-of-h1" not in keys


def test_content_back_to_an_earlier_version_gets_a_key_never_used() -> None:
    """a → b → a: the third request's key is neither the first's nor the second's (an
    API replaying the stored answer of a repeated key would leave the record at b)."""
    first = decide(None, staged(CUSTOMER, "ha"), tenant=TENANT, retry_rejected=False,
                   now=NOW).idempotency_key
    second = decide(held(SENT, "ha", key=first), staged(CUSTOMER, "hb"), tenant=TENANT,
                    retry_rejected=False, now=NOW).idempotency_key
    third = decide(held(SENT, "hb", key=second), staged(CUSTOMER, "ha"), tenant=TENANT,
                   retry_rejected=False, now=NOW).idempotency_key
    assert len({first, second, third}) == 3
