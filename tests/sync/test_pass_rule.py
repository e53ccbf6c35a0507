"""The rule that tells a customer created by the connector's request from one already in
Sticky (connector/sync/pass_rule.py), answer by answer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from connector.config import TenantPassesSettings
from connector.sync.pass_rule import (
    CREATED,
    EXISTED,
    UNKNOWN,
    PassRule,
    origins_line,
    pass_notes,
    pass_rule,
)

STAGED = datetime(2026, 12, 4, 18, 0, 0, 700_000, tzinfo=UTC)
RULE = PassRule(clock_skew=timedelta(seconds=60))


@pytest.mark.parametrize(("status", "body", "expected"), [
    (201, {}, CREATED),
    (201, {"created_at": "2020-01-01T00:00:00Z"}, CREATED),  # 201 is HTTP's own word
    (200, {"created": True}, CREATED),
    (200, {"is_new": False, "created_at": "2026-12-04T17:00:05Z"}, EXISTED),
    # a lost create's de-duplicated retry: "not new" to the API, made by our first try
    (200, {"is_new": False, "created_at": "2026-12-04T18:00:05Z"}, CREATED),
    (200, {"created": False}, EXISTED),
    (200, {"created_at": "2026-12-04"}, UNKNOWN),  # a date alone cannot tell
    (200, {"was_created": True}, CREATED),
    (200, {"created_at": "2026-12-04T18:00:05Z"}, CREATED),
    (200, {"created_at": "2026-12-04T18:00:00Z"}, CREATED),  # same second, truncated
    (200, {"created_at": "2026-12-04T17:59:30Z"}, CREATED),  # within the clock skew
    (200, {"created_at": "2026-12-04T17:58:59Z"}, EXISTED),
    (200, {"created_at": "2025-06-01T09:00:00Z"}, EXISTED),
    (200, {"created_at": "2026-12-04T20:00:05+02:00"}, CREATED),  # an offset
    (200, {"created_at": "2026-12-04T18:00:05"}, CREATED),  # no zone: UTC, as documented
    (200, {"created_at": int(datetime(2026, 12, 4, 18, 1, tzinfo=UTC).timestamp())},
     CREATED),  # epoch seconds
    (200, {"created_at": int(datetime(2026, 1, 4, tzinfo=UTC).timestamp() * 1000)},
     EXISTED),  # epoch milliseconds
    (200, {}, UNKNOWN),
    (200, {"created_at": "yesterday"}, UNKNOWN),
    (200, {"created_at": None}, UNKNOWN),
    (200, {"created_at": True}, UNKNOWN),
    (200, {"created": "yes"}, UNKNOWN),  # not a boolean: not a flag
])
def test_what_an_answer_says_about_the_customer(status: int, body: dict[str, object],
                                                 expected: str) -> None:
    assert RULE.origin(status, body, STAGED) == expected


def test_without_a_staging_time_created_at_cannot_tell() -> None:
    assert RULE.origin(200, {"created_at": "2026-12-04T18:00:05Z"}, None) == UNKNOWN


def test_no_skew_allowed_means_a_customer_a_second_older_existed() -> None:
    strict = PassRule(clock_skew=timedelta(0))
    assert strict.origin(200, {"created_at": "2026-12-04T17:59:59Z"}, STAGED) == EXISTED
    assert strict.origin(200, {"created_at": "2026-12-04T18:00:00Z"}, STAGED) == CREATED


def test_only_created_customers_are_owed_a_pass_unless_mint_for_existing() -> None:
    assert [RULE.wants_pass(o) for o in (CREATED, EXISTED, UNKNOWN)] == [True, False, False]
    generous = pass_rule(TenantPassesSettings(mint_for_existing=True))
    assert [generous.wants_pass(o) for o in (CREATED, EXISTED, UNKNOWN)] == [True, True, True]
    assert pass_rule(TenantPassesSettings(clock_skew_seconds=5)).clock_skew == timedelta(
        seconds=5)


def test_an_answer_that_cannot_tell_is_a_note_when_passes_are_on() -> None:
    on = TenantPassesSettings()
    (note,) = pass_notes({UNKNOWN: 3, CREATED: 1}, on)
    assert note.startswith("3 customer(s) sent for the first time got no wallet pass")
    assert "passes.mint_for_existing" in note
    assert pass_notes({UNKNOWN: 3}, None) == []  # passes off: nothing depends on it
    assert pass_notes({UNKNOWN: 3}, TenantPassesSettings(mint_for_existing=True)) == []
    assert pass_notes({UNKNOWN: 3}, TenantPassesSettings(mint_on_create=False)) == []
    assert pass_notes({EXISTED: 4}, on) == []  # the rule, said by the origins line


def test_the_origins_line_only_when_some_customer_was_not_created_by_the_connector() -> None:
    assert origins_line({CREATED: 5}) is None
    line = origins_line({CREATED: 5, EXISTED: 2})
    assert line is not None and "5 created" in line and "2 already in Sticky" in line
