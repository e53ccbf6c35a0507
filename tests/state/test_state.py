"""The state DB on a real file (and PostgreSQL when available)."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from connector.errors import LeaseLost
from state import Profile, RecordRef, StagedEntry, StateStore
from state.issues import Disposition, RecordIssue
from state.leases import Leases
from state.schema import metadata
from state.store import Delivery


def staged(key: str, payload_hash: str = "h1", workspace: str = "ws_a",
           kind: str = "order.completed", **extra: object) -> StagedEntry:
    return StagedEntry(workspace=workspace, kind=kind, key=key, source="pos",
                       payload_hash=payload_hash, payload={"amount_cents": 100},
                       idempotency_key=f"ik-{key}-{payload_hash}", **extra)  # type: ignore[arg-type]


def test_migrations_create_exactly_the_declared_schema(store: StateStore) -> None:
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []


def test_opening_twice_migrates_once(state_url: str) -> None:
    StateStore.open(state_url).close()
    again = StateStore.open(state_url)
    again.close()


def test_ledger_stages_pending_then_settles_sent(store: StateStore) -> None:
    ids = store.ledger.stage("t1", "sticky", [staged("o1"), staged("o2")], run_id=1, known={})
    states = store.ledger.states("t1", "sticky", ids)
    assert {s.status for s in states.values()} == {"pending"}
    o1 = ids[("ws_a", "order.completed", "o1")]
    store.settle_delivered("t1", [Delivery(o1, "evt_1", attempts=2)])
    entry = store.ledger.find("t1", "sticky", "order.completed", "o1")
    assert entry is not None and (entry.status, entry.remote_id, entry.attempts) == (
        "sent", "evt_1", 2)
    # re-staging a changed payload overwrites the same row
    again = store.ledger.stage("t1", "sticky", [staged("o1", "h2")], run_id=2,
                               known={("ws_a", "order.completed", "o1"): o1})
    assert again == {("ws_a", "order.completed", "o1"): o1}
    entry = store.ledger.find("t1", "sticky", "order.completed", "o1")
    assert entry is not None and (entry.status, entry.payload_hash) == ("pending", "h2")


def test_refund_totals_count_live_entries_of_the_order(store: StateStore) -> None:
    ids = store.ledger.stage("t1", "sticky", [
        staged("r1", kind="order.refunded", parent_key="o1", amount_cents=500),
        staged("r2", kind="order.refunded", parent_key="o1", amount_cents=700),
        staged("r3", kind="order.refunded", parent_key="o2", amount_cents=900),
    ], run_id=None, known={})
    store.ledger.mark_rejected(ids[("ws_a", "order.refunded", "r2")], "400", attempts=1)
    assert store.ledger.total_by_parent("t1", "sticky", "order.refunded", "o1") == 500
    assert store.ledger.total_by_parent("t1", "sticky", "order.refunded", "o1",
                                        exclude_keys=["r1"]) == 0


def test_customer_settlement_records_the_identity(store: StateStore) -> None:
    ids = store.ledger.stage("t1", "sticky", [staged("pos:C1", kind="customer")], None, {})
    entry_id = ids[("ws_a", "customer", "pos:C1")]
    store.settle_delivered("t1", [Delivery(entry_id, "cus_9", 1, ("pos:C1", "ws_a"))])
    assert store.customers.identities("t1", ["pos:C1"]) == {("pos:C1", "ws_a"): "cus_9"}
    assert store.customers.identities("t2", ["pos:C1"]) == {}


def test_a_customer_row_restaged_while_on_its_way_stays_owed_to_the_new_content(
        store: StateStore) -> None:
    first = staged("pos:C1", "h1", kind="customer")
    ids = store.ledger.stage("t1", "sticky", [first], None, {})
    row = ids[("ws_a", "customer", "pos:C1")]
    # a later plan re-stages it (the customer changed) while h1's request is on its way
    store.ledger.stage("t1", "sticky", [staged("pos:C1", "h2", kind="customer")], None,
                       {("ws_a", "customer", "pos:C1"): row})
    # h1's answers settle nothing of h2: it is still owed, whatever becomes of its request
    store.settle_delivered("t1", [Delivery(row, "cus_9", 1, ("pos:C1", "ws_a"),
                                           key=first.idempotency_key)])
    store.ledger.mark_rejected(row, "400 refused", 1, first.idempotency_key)
    entry = store.ledger.find("t1", "sticky", "customer", "pos:C1")
    assert entry is not None and (entry.status, entry.payload_hash) == ("pending", "h2")
    assert store.customers.identities("t1", ["pos:C1"]) == {("pos:C1", "ws_a"): "cus_9"}
    # h2's own answer settles it
    store.settle_delivered("t1", [Delivery(row, "cus_9", 1, ("pos:C1", "ws_a"),
                                           key="ik-pos:C1-h2")])
    entry = store.ledger.find("t1", "sticky", "customer", "pos:C1")
    assert entry is not None and (entry.status, entry.payload_hash) == ("sent", "h2")


def test_record_issues_upsert_and_resolve(store: StateStore) -> None:
    issue = RecordIssue(stream="file:abc", locator="c.csv row 3", row=3, record_key="C1",
                        disposition=Disposition.REJECTED, reason="invalid_phone", field="phone",
                        message="bad", raw={"phone": "x"})
    store.commit_batch("t1", "pos", "file:abc", {"row": 3}, [issue], [], run_id=1)
    assert store.issues.open_counts("t1", "pos") == {"rejected": 1}
    # the same row read again with another outcome: one issue, updated
    requeued = RecordIssue(**{**{f: getattr(issue, f) for f in issue.__dataclass_fields__},
                              "disposition": Disposition.QUARANTINED, "reason": "unknown_customer"})
    store.commit_batch("t1", "pos", "file:abc", {"row": 3}, [requeued], [], run_id=2)
    assert store.issues.open_counts("t1", "pos") == {"quarantined": 1}
    assert [i.reason for i in store.issues.for_stream("t1", "pos", "file:abc")] == [
        "unknown_customer"]
    assert store.cursors.get("t1", "pos", "file:abc") == {"row": 3}
    store.commit_batch("t1", "pos", "file:abc", {"row": 4}, [],
                       [RecordRef("c.csv row 3", "customer", "C1")], run_id=3)
    assert store.issues.open_counts("t1", "pos") == {}
    assert store.issues.for_stream("t1", "pos", "file:abc") == []
    [resolved] = store.issues.find(include_resolved=True)
    assert resolved.resolution == "delivered"


def test_a_corrected_copy_read_elsewhere_supersedes_the_issue(store: StateStore) -> None:
    def issue(stream: str, locator: str, record_id: str) -> RecordIssue:
        return RecordIssue(stream=stream, locator=locator, row=1, record_key=record_id,
                           disposition=Disposition.QUARANTINED, reason="unknown_customer",
                           field="customer_id", message="m", raw={}, record={"k": 1},
                           record_kind="order", record_id=record_id)

    store.commit_batch("t1", "pos", "file:a", {"row": 1},
                       [issue("file:a", "a.csv row 1", "O1"),
                        issue("file:a", "a.csv row 2", "O2")], [], run_id=1)
    # O1 quarantined again from another file: the new copy replaces the old one
    store.commit_batch("t1", "pos", "file:b", {"row": 1},
                       [issue("file:b", "b.csv row 1", "O1")], [], run_id=2)
    assert sorted((i.locator, i.record_id) for i in store.issues.find()) == [
        ("a.csv row 2", "O2"), ("b.csv row 1", "O1")]
    # O2 fixed and delivered from a third file: its old issue is superseded
    store.commit_batch("t1", "pos", "file:c", {"row": 1}, [],
                       [RecordRef("c.csv row 1", "order", "O2")], run_id=3)
    assert [i.locator for i in store.issues.find()] == ["b.csv row 1"]
    by_locator = {i.locator: i.resolution for i in store.issues.find(include_resolved=True)}
    assert by_locator == {"a.csv row 1": "superseded", "a.csv row 2": "superseded",
                          "b.csv row 1": None}
    # a customer "O2" is another record: untouched by the order's delivery
    store.commit_batch("t1", "pos", "file:d", {"row": 1}, [], [
        RecordRef("d.csv row 1", "customer", "O1")], run_id=4)
    assert [i.locator for i in store.issues.find()] == ["b.csv row 1"]


def test_leases_exclude_a_second_holder_until_released_or_expired(store: StateStore) -> None:
    a = store.leases.acquire("t1", "pos", "a", ttl=60)
    assert a is not None and a.generation == 1
    assert store.leases.acquire("t1", "pos", "b", ttl=60) is None
    other = store.leases.acquire("t1", "other", "b", ttl=60)  # another source is free
    assert other is not None
    holder = store.leases.holder("t1", "pos")
    assert holder is not None and (holder.holder, holder.generation) == ("a", 1)
    store.leases.release(a)
    assert store.leases.holder("t1", "pos") is None
    b = store.leases.acquire("t1", "pos", "b", ttl=0.01)
    assert b is not None and b.generation == 2  # a released row keeps counting
    time.sleep(0.05)
    assert store.leases.holder("t1", "pos") is None          # expired
    c = store.leases.acquire("t1", "pos", "c", ttl=60)        # b is alive but expired
    assert c is not None and c.generation == 3
    assert not store.leases.renew(b, ttl=60)                 # b lost it
    assert store.leases.renew(c, ttl=60)
    with store.engine.begin() as conn:                       # b's writes are fenced
        with pytest.raises(LeaseLost, match=r"generation 2.*taken over by c"):
            Leases.fence(conn, b)
        Leases.fence(conn, c)
    with pytest.raises(LeaseLost):
        store.commit_batch("t1", "pos", "s", {"row": 1}, [], [], None, lease=b)
    store.commit_batch("t1", "pos", "s", {"row": 1}, [], [], None, lease=c)
    assert store.cursors.get("t1", "pos", "s") == {"row": 1}
    for lease in (b, c, other):
        store.leases.release(lease)


def test_profiles_round_trip_with_aware_times(store: StateStore) -> None:
    at = datetime(2026, 5, 1, 10, 0, tzinfo=UTC)
    store.customers.save_profiles("t1", [Profile("pos:C1", "+14155550101", sms_consent=True,
                                                 sms_consent_at=at,
                                                 sms_consent_source="kiosk")])
    got = store.customers.profiles("t1", ["pos:C1"])["pos:C1"]
    assert (got.sms_consent, got.sms_consent_at, got.sms_consent_source) == (True, at, "kiosk")
    assert store.customers.key_for_phone("t1", "+14155550101") == "pos:C1"


WRITER = """
import sys
from state import StateStore
store = StateStore.open(sys.argv[1])
for i in range(150):
    with store.engine.begin() as conn:  # read, then write: needs BEGIN IMMEDIATE on SQLite
        from state.schema import cursors
        from sqlalchemy import select
        row = conn.execute(select(cursors.c.position).where(cursors.c.stream == "n")).first()
        n = (row.position["n"] if row else 0) + 1
        store.cursors.put_within("t", "s", "n", {"n": n}, conn)
"""


def test_concurrent_processes_never_hit_database_is_locked(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'state.db'}"
    StateStore.open(url).close()
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, url], stderr=subprocess.PIPE)
             for _ in range(3)]
    errors = [p.communicate(timeout=120)[1].decode() for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], errors
    store = StateStore.open(url)
    try:
        assert store.cursors.get("t", "s", "n") == {"n": 450}
    finally:
        store.close()
