"""Did this connector create the customer Sticky just answered for? The answer decides
whether the customer is owed a wallet pass (docs/passes.md).

The Sticky document ("Errors & rate limits") lists ``200 OK — Success`` and no other
success code, and ``POST /v1/customers`` de-dupes on phone: the same answer shape comes
back for a customer just created and for one that was already there. Its example answer
carries ``created_at`` ("Create a customer", Response). So a customer counts as created
by the connector's request when the answer says so in any documented or common way:

1. ``201 Created`` (HTTP's own word for it);
2. an explicit flag in the body (``created``, ``is_new``, ``new``, ``was_created``) that
   says ``true``;
3. ``created_at`` at or after the moment the connector first tried to create this
   customer in this workspace (the ledger row's birth, to the second: the document's
   example is to the second), less ``clock_skew``; older → existed. This wins over a
   ``false`` flag: a create whose
   answer was lost and whose retry is answered by the de-duplicating API still counts:
   the customer was made by the first attempt, after that moment;
4. else a ``false`` flag → existed.

``created_at`` is read as ISO-8601 with a time (a time without a zone is taken as UTC,
as the document's example is; a bare date says nothing) or epoch seconds/milliseconds.
An answer with none of these cannot tell; the customer gets no pass, and the run says
so.

Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from connector.config import TenantPassesSettings
from connector.errors import InvalidRecord
from connector.mapping.timestamps import parse_timestamp

CREATED = "created"
"""Created by the connector's request: owed a pass."""
EXISTED = "existed"
"""Already in Sticky before the connector first sent it."""
UNKNOWN = "unknown"
"""The answer did not say (``200``, no flag, no usable ``created_at``)."""

CREATED_FLAGS = ("created", "is_new", "new", "was_created")


@dataclass(frozen=True, slots=True)
class PassRule:
    """``[tenants.passes]`` as the sender applies it."""

    mint_for_existing: bool = False
    clock_skew: timedelta = timedelta(seconds=60)

    def origin(self, status: int, body: Mapping[str, Any],
               first_staged_at: datetime | None) -> str:
        """CREATED, EXISTED or UNKNOWN for a first delivery answered ``status``/``body``."""
        if status == 201:
            return CREATED
        flag = next((body[f] for f in CREATED_FLAGS if isinstance(body.get(f), bool)), None)
        if flag is True:
            return CREATED
        created_at = _created_at(body.get("created_at"))
        if created_at is not None and first_staged_at is not None:
            # the document's created_at is to the second: compare with the staging second
            since = first_staged_at.replace(microsecond=0) - self.clock_skew
            if created_at >= since:
                # made by the connector's own earlier attempt, even when a de-duplicating
                # retry's answer calls it existing
                return CREATED
            return EXISTED
        return EXISTED if flag is False else UNKNOWN

    def wants_pass(self, origin: str) -> bool:
        return origin == CREATED or self.mint_for_existing


def pass_rule(settings: TenantPassesSettings | None) -> PassRule:
    if settings is None:
        return PassRule()
    return PassRule(settings.mint_for_existing, timedelta(seconds=settings.clock_skew_seconds))


def origins_line(origins: Mapping[str, int]) -> str | None:
    """What Sticky's answers said about the customers sent for the first time, when any
    was not created by the connector (or did not say)."""
    if not origins.get(EXISTED) and not origins.get(UNKNOWN):
        return None
    return (f"customers sent for the first time: {origins.get(CREATED, 0)} created in "
            f"Sticky by this connector, {origins.get(EXISTED, 0)} already in Sticky "
            f"before it first sent them (matched on phone), {origins.get(UNKNOWN, 0)} "
            "whose answer did not say; only the first are owed a wallet pass unless "
            "passes.mint_for_existing = true (docs/passes.md)")


def pass_notes(origins: Mapping[str, int], settings: TenantPassesSettings | None) -> list[str]:
    """Why customers sent for the first time got no wallet pass, when passes are on and
    nobody can tell whether that is right (a customer already in Sticky getting none is
    the rule, said by :func:`origins_line`, not a note)."""
    if settings is None or not settings.mint_on_create or settings.mint_for_existing:
        return []
    notes = []
    if origins.get(UNKNOWN):
        notes.append(
            f"{origins[UNKNOWN]} customer(s) sent for the first time got no wallet pass: "
            "Sticky's answer did not say whether it created them (no 201, no "
            "created/is_new flag, no created_at; docs/passes.md); "
            "`sticky-sync passes mint` mints for them, passes.mint_for_existing = true "
            "mints for such customers from now on")
    return notes


def _created_at(value: object) -> datetime | None:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return None
    text = str(int(value)) if isinstance(value, int | float) else value
    if isinstance(value, str) and ":" not in value and not value.strip().isdigit():
        return None  # a date without a time cannot be compared to the second
    try:
        return parse_timestamp(text, field="created_at")
    except InvalidRecord:
        return None
