"""SMS / e-mail consent: only an explicit opt-in with its source counts, and a newer
opt-out always wins.

Rules (see docs/architecture.md, "Consent"):
- A blank or missing flag says nothing: the previous state stands.
- An SMS opt-in without ``opt_in_source`` is not recorded (warning ``consent_without_source``):
  TCPA consent needs provenance, and Sticky requires a source for ``sms: true``.
- Loyalty-membership flags are never read as consent (no mapper looks at them).
- Conflicts: an opt-in replaces an earlier opt-out only when both are dated and the
  opt-in is strictly newer; an opt-out replaces an opt-in unless it is dated strictly
  *older* than that opt-in. Undated conflicts resolve to opt-out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class ConsentState:
    granted: bool | None = None
    at: datetime | None = None
    source: str | None = None


@dataclass(frozen=True, slots=True)
class ConsentOutcome:
    state: ConsentState
    warning: str | None = None


def merge_consent(previous: ConsentState, incoming: ConsentState) -> ConsentOutcome:
    if incoming.granted is None:
        return ConsentOutcome(previous)
    if previous.granted is None or previous.granted == incoming.granted:
        if previous.granted is not None and _older(incoming.at, previous.at):
            return ConsentOutcome(previous)
        return ConsentOutcome(incoming)
    if incoming.granted:  # opt-in arriving over an opt-out
        if _dated_and_newer(incoming.at, previous.at):
            return ConsentOutcome(incoming)
        return ConsentOutcome(previous, warning="opt_out_kept")
    # opt-out arriving over an opt-in
    if _dated_and_newer(previous.at, incoming.at):
        return ConsentOutcome(previous, warning="stale_opt_out_ignored")
    return ConsentOutcome(incoming)


def _dated_and_newer(candidate: datetime | None, other: datetime | None) -> bool:
    return candidate is not None and other is not None and candidate > other


def _older(candidate: datetime | None, other: datetime | None) -> bool:
    return candidate is not None and other is not None and candidate < other
