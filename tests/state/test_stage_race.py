"""Two processes staging the same payload at once (the daemon runs two sources of a tenant
concurrently; phone-keyed customers are shared between sources): the late one is told,
writes nothing, and the planner decides again on what the other wrote."""

from __future__ import annotations

from collections.abc import Iterable

import pytest

from adapters.records import OrderRecord, Origin
from connector.mapping.context import MappingContext
from connector.sync.planner import TARGET, BatchPlanner
from connector.sync.work import CUSTOMER, WorkState
from state import StagedEntry, StateStore
from state.ledger import EntryId, EntryState, StageConflict

CTX = MappingContext(tenant="t1", source="pos", phone_region="US", timezone="UTC",
                     default_workspace="ws_a")


def _entry(key: str) -> StagedEntry:
    return StagedEntry(workspace="ws_a", kind=CUSTOMER, key=key, source="pos",
                       payload_hash="h", payload={"phone": "x"}, idempotency_key="k" + key)


def test_a_row_inserted_meanwhile_is_a_conflict_and_nothing_is_written(
        store: StateStore) -> None:
    store.ledger.stage("t1", TARGET, [_entry("phone:+14155550101")], None, {})
    with pytest.raises(StageConflict):
        store.ledger.stage("t1", TARGET, [_entry("phone:+14155550102"),
                                          _entry("phone:+14155550101")], None, {})
    assert store.ledger.find("t1", TARGET, CUSTOMER, "phone:+14155550102") is None


def test_the_planner_plans_again_over_the_other_process_rows(state_url: str) -> None:
    mine, other = StateStore.open(state_url), StateStore.open(state_url)
    try:
        order = OrderRecord(origin=Origin("pos", "orders", "orders.csv row 1", row=1),
                            order_id="O1", phone="(415) 555-0142", total="12.00",
                            completed_at="2026-11-01T10:00:00Z")
        real_states = mine.ledger.states
        raced: list[bool] = []

        def racing_states(tenant: str, target: str,
                          ids: Iterable[EntryId]) -> dict[EntryId, EntryState]:
            found = real_states(tenant, target, ids)
            if not raced:  # between this look-up and the insert, the other one stages
                raced.append(True)
                BatchPlanner(CTX, other).plan([order], None)
            return found

        mine.ledger.states = racing_states  # type: ignore[method-assign]
        plan = BatchPlanner(CTX, mine).plan([order], None)
        assert raced
        customer = next(w for w in plan.works.values() if w.kind == CUSTOMER)
        theirs = other.ledger.find("t1", TARGET, CUSTOMER, customer.staged.key)
        assert theirs is not None and customer.ledger_id == theirs.id
        assert all(w.state is WorkState.TO_SEND and w.ledger_id for w in plan.works.values())
    finally:
        mine.close()
        other.close()
