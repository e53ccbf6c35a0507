"""Passes, the webhook inbox, loyalty facts and owed write-backs on every backend (SQLite
file, and PostgreSQL when available)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from state import StagedEntry, StateStore
from state._sql import full_sync
from state.passes import MintedPass
from state.store import Delivery

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def minted(pass_id: str, expires: datetime) -> MintedPass:
    return MintedPass(pass_id, f"https://wallet.sticky.co/i/{pass_id}", None, None, expires)


def test_a_pass_is_wanted_once_minted_once_and_counted(store: StateStore) -> None:
    assert store.passes.want("t1", [("ws", "cus_1", "pos:1"), ("ws", "cus_2", None)],
                             "created") == 2
    assert store.passes.want("t1", [("ws", "cus_1", "pos:1")], "on_demand") == 0
    store.passes.record_minted("t1", "ws", "cus_1", minted("pass_1", T0 + timedelta(hours=24)))
    store.passes.record_minted("t1", "ws", "cus_1", minted("pass_X", T0))  # not wanted now
    record = store.passes.get("t1", "ws", "cus_1")
    assert record is not None and record.pass_id == "pass_1" and record.reason == "created"
    assert [r.customer_id for r in store.passes.wanted("t1")] == ["cus_2"]
    assert store.passes.counts("t1", now=T0) == {"valid": 1, "wanted": 1}
    assert store.passes.counts("t1", now=T0 + timedelta(hours=25)) == {"expired": 1,
                                                                       "wanted": 1}
    assert not store.passes.want_remint("t1", "ws", "cus_1", T0)  # still valid
    assert store.passes.want_remint("t1", "ws", "cus_1", T0 + timedelta(hours=25))
    again = store.passes.get("t1", "ws", "cus_1")
    assert again is not None and again.status == "wanted" and again.generation == 1


def test_settling_a_created_customer_wants_its_pass_in_the_same_transaction(
        store: StateStore) -> None:
    staged = StagedEntry(workspace="ws", kind="customer", key="pos:1", source="pos",
                         payload_hash="h", payload={"phone": "+14155550101"},
                         idempotency_key="ik")
    ids = store.ledger.stage("t1", "sticky", [staged], run_id=None, known={})
    store.settle_delivered("t1", [Delivery(ids[staged.entry_id], "cus_1", 1,
                                           ("pos:1", "ws"), wants_pass=True)])
    record = store.passes.get("t1", "ws", "cus_1")
    assert record is not None and record.status == "wanted"
    assert record.customer_key == "pos:1"
    assert store.customers.keys_for_remote("ws", "cus_1") == [("t1", "pos:1")]


def test_the_inbox_keeps_an_event_once_and_counts_repeats(store: StateStore) -> None:
    body = {"id": "whe_1", "type": "customer.tier_changed", "data": {}}
    assert store.webhooks.store_event("ws", "whe_1", "customer.tier_changed", body, T0)
    assert not store.webhooks.store_event("ws", "whe_1", "customer.tier_changed", body, T0)
    assert store.webhooks.store_event("ws2", "whe_1", "customer.tier_changed", body, T0)
    assert [(e.workspace, e.deliveries) for e in store.webhooks.events()] == [
        ("ws", 2), ("ws2", 1)]
    event = store.webhooks.unprocessed()[0]
    owed = StagedEntry(workspace="shop", kind="customer.tag", key="101", source="shop",
                       payload_hash="gold", payload={"tier": "gold"}, idempotency_key="k1")
    assert store.apply_tier_change(event, "cus_1", "gold", "silver", T0, 1200,
                                   [("t1", "shopify", owed)])
    assert store.webhooks.inbox_counts() == {"received": 2, "deliveries": 3, "applied": 1,
                                             "pending": 1}
    assert store.webhooks.tier_counts(["ws"]) == {"gold": 1}
    [entry] = store.ledger.pending("t1", "shopify", "customer.tag")
    assert store.ledger.mark_sent_if_unchanged(entry, "gid://shopify/Customer/101", 1)
    with store.engine.begin() as conn:  # the same tag again: nothing owed
        assert not store.ledger.owe("t1", "shopify", owed, conn)
    newer = StagedEntry(workspace="shop", kind="customer.tag", key="101", source="shop",
                        payload_hash="platinum", payload={"tier": "platinum"},
                        idempotency_key="k2")
    with store.engine.begin() as conn:
        assert store.ledger.owe("t1", "shopify", newer, conn)
    [pending] = store.ledger.pending("t1", "shopify", "customer.tag")
    assert pending.payload == {"tier": "platinum"}
    # a send of the old content that finishes late does not settle the newer one
    assert not store.ledger.mark_sent_if_unchanged(entry, "gid://shopify/Customer/101", 1)
    assert len(store.ledger.pending("t1", "shopify", "customer.tag")) == 1


def test_subscriptions_round_trip(store: StateStore) -> None:
    store.webhooks.save_subscription("ws", "https://x.example/h/ws", ["pass.installed"],
                                     "we_1", "abcd", "ik")
    store.webhooks.save_subscription("ws", "https://x.example/h/ws",
                                     ["pass.installed", "customer.tier_changed"],
                                     "we_2", "abcd", "ik2")
    [sub] = store.webhooks.subscriptions()
    assert sub.subscription_id == "we_2" and sub.events == ["pass.installed",
                                                            "customer.tier_changed"]


def test_the_inbox_commits_with_a_full_sync_on_sqlite(store: StateStore) -> None:
    if store.engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL commits are durable already")
    with store.engine.connect() as conn:
        raw = conn.connection.driver_connection
        assert raw is not None
        with full_sync(conn):
            assert raw.execute("PRAGMA synchronous").fetchone() == (2,)  # FULL
        assert raw.execute("PRAGMA synchronous").fetchone() == (1,)  # NORMAL again
