"""The ledger's decision for one planned payload, as a pure function.

Given what the ledger holds for the payload's (workspace, kind, key) (an ``EntryState``,
or None), what the planner staged now (a ``StagedEntry``) and what the run asks (replay
the target's refusals or not), :func:`decide`
says whether to stage it (under which idempotency key, as new or changed), or that it is
unchanged, or that the target refused it earlier. No I/O: ``BatchPlanner._decide``
gathers the inputs, calls it per payload and stages what it says
(``tests/sync/test_decision.py`` holds the whole truth table).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from connector.mapping.keys import idempotency_key
from state.ledger import EntryState, LedgerStatus, StagedEntry

CUSTOMER = "customer"


class Verdict(StrEnum):
    STAGE = "stage"
    """Stage it as pending (with :attr:`Decision.idempotency_key`) and send it."""
    UNCHANGED = "unchanged"
    """Already delivered: nothing to send."""
    REJECTED_EARLIER = "rejected_earlier"
    """The target refused this very content before: not sent again."""
    RESEND_HELD = "resend_held"
    """An event whose earlier content is pending (perhaps delivered when a run died):
    send what the ledger holds, under its key, not the changed content."""


@dataclass(frozen=True, slots=True)
class Decision:
    verdict: Verdict
    idempotency_key: str = ""
    """For ``STAGE``: the key to send under."""
    changed: bool = False
    """For ``STAGE``: delivered before with other content (else new)."""
    refusal: str | None = None
    """For ``REJECTED_EARLIER``: the target's answer then (the ledger's last error)."""
    first_staged_at: datetime | None = None
    """For customers: since when an attempt of ours may have created it at the target."""


def decide(held: EntryState | None, planned: StagedEntry, *, tenant: str,
           retry_rejected: bool, now: datetime) -> Decision:
    """The ledger's decision for ``planned`` (see the module docstring)."""
    first = _first_staged_at(held, now) if planned.kind == CUSTOMER else None
    if held is None:
        return Decision(Verdict.STAGE, planned.idempotency_key, first_staged_at=first)
    same = held.payload_hash == planned.payload_hash
    if held.status == LedgerStatus.REJECTED and same:
        if not retry_rejected:
            return Decision(Verdict.REJECTED_EARLIER, refusal=held.last_error,
                            first_staged_at=first)
        # Nothing happened at the target for the refused request; a new key keeps an API
        # that remembers the refusal under the old key from replaying it.
        retry_key = idempotency_key(tenant, planned.workspace, planned.kind,
                                    planned.key, f"{planned.payload_hash}#retry{held.attempts}")
        return Decision(Verdict.STAGE, retry_key, first_staged_at=first)
    if held.status == LedgerStatus.SENT and (same or planned.kind != CUSTOMER):
        # Events are immutable at Sticky: once sent, a changed source row is not sent
        # again (it would award points twice). A changed customer is staged below.
        return Decision(Verdict.UNCHANGED, first_staged_at=first)
    if held.status == LedgerStatus.PENDING and held.idempotency_key:
        if same:
            # Perhaps in flight when an earlier run died: resend under the same key.
            return Decision(Verdict.STAGE, held.idempotency_key, first_staged_at=first)
        if planned.kind != CUSTOMER:
            # An event changed while its first version may have been delivered: events
            # are immutable at Sticky, so that version is what goes, under its own key
            # (a second event would award points twice).
            return Decision(Verdict.RESEND_HELD, held.idempotency_key, first_staged_at=first)
    return Decision(Verdict.STAGE, _after(held, planned, tenant),
                    changed=held.status == LedgerStatus.SENT, first_staged_at=first)


def _after(held: EntryState, planned: StagedEntry, tenant: str) -> str:
    """The key of content that replaces what the row held under ``held``'s key: derived
    from both, so content that comes back to an earlier version (an e-mail a → b → a)
    goes out under a key never used before. Under the content's own key, an API that
    replays the answer stored for a repeated key would answer the first request's
    outcome again and leave the record at b."""
    if not held.idempotency_key:
        return planned.idempotency_key
    return idempotency_key(tenant, planned.workspace, planned.kind, planned.key,
                           f"{planned.payload_hash}#after:{held.idempotency_key}")


def _first_staged_at(held: EntryState | None, now: datetime) -> datetime | None:
    """A row never sent, or refused (nothing was created), starts now; one an attempt
    of ours may have created keeps its birth."""
    tried = held is not None and held.attempts > 0 and held.status != LedgerStatus.REJECTED
    return held.created_at if tried and held is not None else now
