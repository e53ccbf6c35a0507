"""One vocabulary for what a pass came to, used alike by the run summary, ``run --json``,
``status``, the ``runs`` table, ``/metrics``, ``/healthz`` and the exit code.

- ``ok``: finished, and nothing waits for a person.
- ``needs attention``: finished, but records were quarantined or rejected, a file was
  rejected whole, stores are not mapped, or a note was raised (an amount unit that looks
  wrong...): a person should look.
- ``failed``: stopped before the end (a target or the source unavailable, refused
  credentials); what was read is resumed by the next run. A state DB that cannot be used
  stops the whole command instead (exit code 5).
- ``busy``: another process holds the source; nothing was done.
- ``stopped``: asked to stop (daemon shutdown) before reading everything; resumed next run.
- ``cancelled``: cancelled while settling (drain deadline); resumed next run.
- ``not due``: ``run --once`` and the source's schedule has not fired.

Exit codes: 0 ok, 1 needs attention, 2 configuration, 3 busy, 4 failed (a target, a
source or credentials), 5 the state DB unusable (locked, damaged, full disk, newer
version, unreachable): a local problem, named in one line.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import IntEnum, StrEnum


class Outcome(StrEnum):
    """What a pass (a source's, or a tenant-wide step's) came to (the ``runs.outcome``
    column; see the module docstring)."""

    OK = "ok"
    NEEDS_ATTENTION = "needs attention"
    FAILED = "failed"
    BUSY = "busy"
    STOPPED = "stopped"
    CANCELLED = "cancelled"
    NOT_DUE = "not due"


COMPLETE = (Outcome.OK, Outcome.NEEDS_ATTENTION)
"""Outcomes of a pass that read its source to the end."""


class PayloadOutcome(StrEnum):
    """What became of one payload owed to a target in a pass (the run summary's
    ``targets`` counts, ``run --json``, the ``payloads`` metric)."""

    NEW = "new"
    """Sent, never delivered before."""
    CHANGED = "changed"
    """Sent again: delivered before with other content."""
    UNCHANGED = "unchanged"
    """Already delivered with this content: not sent."""
    REJECTED = "rejected"
    """Refused by the target (now or earlier)."""
    SKIPPED = "skipped"
    """Not sent, by rule."""
    QUARANTINED = "quarantined"
    """Not sent now: waits for a replay."""


class ExitCode(IntEnum):
    OK = 0
    NEEDS_ATTENTION = 1
    CONFIG_ERROR = 2
    SOURCE_BUSY = 3
    TARGET_UNREACHABLE = 4
    """A target or a source unavailable, or credentials refused."""
    STATE_UNAVAILABLE = 5
    """The state DB cannot be used (state/failures.py says why and what to do)."""

    # the name the code had before the vocabulary was settled
    RECORDS_FAILED = 1


def overall(outcomes: Iterable[str]) -> Outcome:
    """The outcome of several steps: the worst of them (failed, busy, needs attention)."""
    found = set(outcomes)
    for word in (Outcome.FAILED, Outcome.BUSY, Outcome.NEEDS_ATTENTION):
        if word in found:
            return word
    return Outcome.OK


def exit_code(outcome: str) -> ExitCode:
    codes: dict[str, ExitCode] = {Outcome.FAILED: ExitCode.TARGET_UNREACHABLE,
            Outcome.CANCELLED: ExitCode.TARGET_UNREACHABLE,
            Outcome.BUSY: ExitCode.SOURCE_BUSY,
            Outcome.NEEDS_ATTENTION: ExitCode.NEEDS_ATTENTION}
    return codes.get(outcome, ExitCode.OK)
