"""The erasure purge on a real SQLite file and on PostgreSQL: what goes, what stays."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from state import RecordIssue, StagedEntry, StateStore
from state.customers import Profile
from state.erasures import ERASED_PREFIX, KEY, Digests, ErasedPerson, Erasures
from state.schema import ledger, record_issues, state_meta
from state.store import Delivery

BOB, ADA = "+15105550142", "+14155550123"


def _issue(record_id: str, raw: dict[str, Any]) -> RecordIssue:
    return RecordIssue(stream="file:x", locator=f"row {record_id}", row=1,
                       record_key=record_id, disposition="quarantined", reason="r",
                       field=None, message="m", raw=raw, record_kind="customer",
                       record_id=record_id)


def _seed(store: StateStore) -> None:
    store.customers.save_profiles("t1", [
        Profile("shop:1", BOB, email="bob@example.com", first_name="Bob"),
        Profile("pos:9", BOB, first_name="Bobby"),  # the same person from another source
        Profile("shop:2", ADA, first_name="Ada")])
    for key, remote in (("shop:1", "cus_bob"), ("shop:2", "cus_ada")):
        store.customers.save_identity("t1", key, "ws1", remote)
    entries = [StagedEntry("ws1", "customer", key, "shop", "h" + key, {"phone": phone},
                           "k" + key, subject=key)
               for key, phone in (("shop:1", BOB), ("shop:2", ADA))]
    entries.append(StagedEntry("ws1", "order.completed", "shop:o1", "shop", "ho1",
                               {"amount_cents": 500}, "ko1", subject="shop:1"))
    store.ledger.stage("t1", "sticky", entries, None, {})
    store.passes.want("t1", [("ws1", "cus_bob", "shop:1"), ("ws1", "cus_ada", "shop:2")],
                      "created")
    with store.engine.begin() as conn:
        store.issues.record("t1", "shop", [
            _issue("7", {"note": "call (510) 555-0142"}), _issue("8", {"phone": ADA})],
            None, conn)
    store.webhooks.store_event("ws1", "evt_1", "customer.tier_changed",
                               {"data": {"customer_id": "cus_bob", "tier": "gold"}}, None)


def test_an_erasure_purges_the_person_and_keeps_everyone_else(store: StateStore) -> None:
    _seed(store)
    seen: list[Digests] = []

    def mentions(doc: Any, digests: Digests) -> bool:
        seen.append(digests)
        return "(510) 555-0142" in str(doc)

    [bob, bobby] = store.erasures.erase("t1", "shop", [ErasedPerson("shop:1", "erased")],
                                        mentions=mentions)
    assert (bob.customer_key, bob.sticky_ids, bob.known_before) == (
        "shop:1", [("ws1", "cus_bob")], True)
    assert bobby.customer_key == "pos:9"  # same phone: the same Sticky customer
    assert set(store.customers.profiles("t1", ["shop:1", "pos:9", "shop:2"])) == {"shop:2"}
    assert store.customers.identities("t1", ["shop:1", "shop:2"]) == {
        ("shop:2", "ws1"): "cus_ada"}
    assert [p.customer_id for p in store.passes.all("t1")] == ["cus_ada"]
    with store.engine.connect() as conn:
        rows = {r.key: r for r in conn.execute(select(ledger))}
        issues = [r.record_id for r in conn.execute(select(record_issues))]
    erased_key = ERASED_PREFIX + store.erasures.digest(KEY, "shop:1")
    erased_row = rows[erased_key]
    assert erased_row.payload == {"erased": True} and "shop:1" not in rows
    assert (erased_row.payload_hash, erased_row.remote_id) == ("erased", None)
    assert erased_row.idempotency_key == erased_key[:80]
    assert erased_row.status == "rejected"  # staged, never delivered: never will be
    assert rows["shop:o1"].subject == erased_key and rows["shop:o1"].payload == {
        "amount_cents": 500}  # the event keeps what is not personal
    assert rows["shop:2"].payload == {"phone": ADA}
    assert issues == ["8"] and seen  # the one mentioning them went
    assert [e.body for e in store.webhooks.events("ws1")] == [{"erased": True}]
    [item] = store.attention.open_items("t1", "erasure")
    assert item.key == "ws1/cus_bob" and "erase in Sticky: cus_bob" in item.message

    assert store.erasures.erased_keys("t1", ["shop:1", "pos:9", "shop:2"]) == {
        "shop:1", "pos:9"}
    assert store.erasures.erased_phones("t1", [BOB, ADA]) == {BOB}
    digests = store.erasures.digests("t1")
    assert len(digests.keys) == 2 and len(digests.phones) == 1 and len(digests.emails) == 1
    assert store.erasures.release_phone("t1", BOB)
    assert store.erasures.erased_phones("t1", [BOB]) == set()
    assert store.erasures.erased_keys("t1", ["shop:1"]) == {"shop:1"}  # keys stay out
    assert store.erasures.files_pending("t1") is not None
    looked = datetime.now(UTC)
    store.erasures.erase("t1", "shop", [ErasedPerson("shop:3", "erased")])  # meanwhile
    store.erasures.mark_files_scrubbed("t1", looked)
    assert store.erasures.files_pending("t1") is not None  # shop:3 was not looked for
    store.erasures.mark_files_scrubbed("t1", datetime.now(UTC))
    assert store.erasures.files_pending("t1") is None
    store.erasures.reopen_files("t1")
    assert store.erasures.files_pending("t1") is not None
    store.erasures.settle_storage()  # a WAL truncate on SQLite, VACUUM on PostgreSQL


def test_the_salt_is_made_once_and_digests_are_not_plain_hashes(store: StateStore) -> None:
    first = store.erasures.digest(KEY, "shop:1")
    with store.engine.connect() as conn:
        [salt] = conn.execute(select(state_meta.c.value).where(
            state_meta.c.name == "erasure_salt")).scalars().all()
    assert len(salt) == 64
    again = Erasures(store.engine).digest(KEY, "shop:1")  # a new process: same salt
    assert first == again and "shop:1" not in first
    assert not store.erasures.any("t1")
    store.erasures.erase("t1", "shop", [ErasedPerson("shop:404", "erased")])
    assert store.erasures.any("t1") and not store.erasures.any("t2")


def test_a_create_answered_after_its_customer_was_erased_keeps_nothing(
        store: StateStore) -> None:
    """Batches are planned ahead of sending: an erasure can be planned while the
    customer's create is in flight. Its answer brings back no identity and no pass; the
    Sticky id it reveals is listed for erasure."""
    store.customers.save_profiles("t1", [Profile("shop:1", BOB)])
    staged = store.ledger.stage("t1", "sticky", [StagedEntry(
        "ws1", "customer", "shop:1", "shop", "h", {"phone": BOB}, "k", subject="shop:1")],
        None, {})
    store.erasures.erase("t1", "shop", [ErasedPerson("shop:1", "erased at the source")])
    [row_id] = staged.values()
    store.settle_delivered("t1", [Delivery(row_id, "cus_late", 1, ("shop:1", "ws1"),
                                           wants_pass=True)])
    assert store.customers.identities("t1", ["shop:1"]) == {}
    assert store.passes.all("t1") == []
    [item] = store.attention.open_items("t1", "erasure")
    assert item.key == "ws1/cus_late"
    with store.engine.connect() as conn:
        [row] = conn.execute(select(ledger)).all()
    assert row.status == "sent" and row.remote_id is None and BOB not in str(row.payload)
