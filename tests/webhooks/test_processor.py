"""Applying stored webhook events: tiers (latest wins, whatever the arrival order), pass
installs, journeys, write-back entries owed once per tier, bad events marked failed."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from connector.config import Settings, build_settings
from connector.webhooks.processor import (
    TAG_KIND,
    WRITE_BACK_TARGET,
    ProcessReport,
    process_pending,
)
from state import StateStore
from state.passes import MintedPass

WS = "ws_a"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[StateStore]:
    opened = StateStore.open(f"sqlite:///{tmp_path / 'state.db'}")
    yield opened
    opened.close()


def config(write_back: bool = True) -> Settings:
    return build_settings({"tenants": [{
        "id": "t1", "name": "T", "default_workspace": WS,
        "sources": [{"kind": "shopify", "name": "shop", "shop": "sticky-test",
                     "write_back_tier": write_back},
                    {"kind": "csv", "name": "pos", "drop_dir": "/tmp/none"}]}]})


def receive(store: StateStore, event_id: str, event_type: str, created: datetime,
            **data: Any) -> None:
    store.webhooks.store_event(WS, event_id, event_type,
                               {"id": event_id, "type": event_type, "data": data}, created)


T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def test_tier_changes_apply_latest_first_and_owe_one_tag_per_shopify_customer(
        store: StateStore) -> None:
    store.customers.save_identity("t1", "shop:101", WS, "cus_1")
    store.customers.save_identity("t1", "pos:9", WS, "cus_1")  # same person, CSV source
    receive(store, "e2", "customer.tier_changed", T0 + timedelta(minutes=5),
            customer_id="cus_1", tier="gold", previous_tier="silver", points_balance=1200)
    assert process_pending(config(), store).outcomes == {"applied": 1}
    receive(store, "e1", "customer.tier_changed", T0, customer_id="cus_1", tier="silver",
            previous_tier="bronze")  # an earlier change, delivered late (a retry)
    assert process_pending(config(), store).outcomes == {"ignored": 1}
    facts = store.webhooks.facts(WS, "cus_1")
    assert facts is not None and facts.tier == "gold" and facts.points_balance == 1200
    owed = store.ledger.pending("t1", WRITE_BACK_TARGET, TAG_KIND)
    assert [(e.workspace, e.key, e.payload["tag"]) for e in owed] == [
        ("shop", "101", "sticky-tier:gold")]
    # the same tier again (a later event) owes nothing new while one is pending
    receive(store, "e3", "customer.tier_changed", T0 + timedelta(minutes=9),
            customer_id="cus_1", tier="gold")
    process_pending(config(), store)
    assert len(store.ledger.pending("t1", WRITE_BACK_TARGET, TAG_KIND)) == 1
    assert all(e.processed_at is not None for e in store.webhooks.events())


def test_no_write_back_unless_the_source_asks_for_it(store: StateStore) -> None:
    store.customers.save_identity("t1", "shop:101", WS, "cus_1")
    receive(store, "e1", "customer.tier_changed", T0, customer_id="cus_1", tier="gold")
    process_pending(config(write_back=False), store)
    assert store.ledger.pending("t1", WRITE_BACK_TARGET, TAG_KIND) == []
    facts = store.webhooks.facts(WS, "cus_1")
    assert facts is not None and facts.tier == "gold"


def test_a_pass_install_marks_our_pass_installed(store: StateStore) -> None:
    store.passes.want("t1", [(WS, "cus_1", "pos:9")], "created")
    store.passes.record_minted("t1", WS, "cus_1", MintedPass(
        "pass_1", "https://wallet.sticky.co/i/1", None, None, T0 + timedelta(hours=24)))
    receive(store, "e1", "pass.installed", T0, customer_id="cus_1", pass_id="pass_1",
            platform="google", installed_at="2026-12-01T13:00:00Z")
    receive(store, "e2", "pass.installed", T0, customer_id="cus_2", pass_id="pass_x")
    report = process_pending(config(), store)
    assert report.outcomes == {"applied": 1, "ignored": 1}
    record = store.passes.get("t1", WS, "cus_1")
    assert record is not None and record.status == "installed"
    assert record.platform == "google"
    assert record.installed_at == datetime(2026, 12, 1, 13, 0, tzinfo=UTC)
    # an installed pass is never re-minted
    assert not store.passes.want_remint("t1", WS, "cus_1", T0 + timedelta(days=2))


def test_journeys_unknown_types_and_bad_events(store: StateStore) -> None:
    receive(store, "e1", "journey.entered", T0, customer_id="cus_1", journey="welcome")
    receive(store, "e2", "points.expired", T0, customer_id="cus_1")
    receive(store, "e3", "customer.tier_changed", T0, customer_id="cus_1")  # no tier
    report: ProcessReport = process_pending(config(), store)
    assert report.outcomes == {"applied": 1, "ignored": 1, "failed": 1}
    facts = store.webhooks.facts(WS, "cus_1")
    assert facts is not None and facts.last_journey == "welcome" and facts.tier is None
    failed = next(e for e in store.webhooks.events() if e.event_id == "e3")
    assert failed.outcome == "failed" and failed.detail is not None
    assert "data.tier" in failed.detail
    assert store.webhooks.inbox_counts() == {"received": 3, "deliveries": 3, "applied": 1,
                                             "ignored": 1, "failed": 1}


def test_other_spellings_of_the_fields_are_read(store: StateStore) -> None:
    """Sticky's doc shows no event body: nested objects and other common names work."""
    store.webhooks.store_event(WS, "e1", "customer.tier_changed", {
        "id": "e1", "type": "customer.tier_changed",
        "data": {"object": {"customer": {"id": "cus_9"}, "new_tier": "gold",
                            "old_tier": "silver"}}}, T0)
    store.webhooks.store_event(WS, "e2", "journey.entered", {
        "event": "journey.entered", "data": {"customer": {"id": "cus_9"},
                                             "journey": "vip"}}, T0)
    assert process_pending(config(), store).outcomes == {"applied": 2}
    facts = store.webhooks.facts(WS, "cus_9")
    assert facts is not None
    assert (facts.tier, facts.previous_tier, facts.last_journey) == ("gold", "silver", "vip")
