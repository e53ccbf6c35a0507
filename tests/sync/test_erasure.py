"""Erased customers (Shopify ``REDACTED``, a POS's deleted flag) against the Shopify fake,
a BLAZE fake and the Sticky sandbox over real HTTP: never sent; one synced earlier is
purged from the state DB file and the kept CSVs, and listed for erasure in Sticky."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from connector.cli import app
from connector.erasure import CUSTOMER_ERASED
from sandbox.testing import SandboxAdmin
from state.schema import identities
from tests.pos_fake import running_pos
from tests.pos_fake.blaze import BlazePos
from tests.shopify_fake import ShopifyFake
from tests.shopify_fake.server import RunningShopify
from tests.support import (
    CUSTOMER_HEADER,
    ORDER_HEADER,
    WS_ONLINE,
    drop_file,
    pos_source,
    shopify_source,
)
from tests.sync.conftest import Harness

PRESETS = Path(__file__).resolve().parents[2] / "examples" / "pos"
ADA, BOB = "+14155550123", "+15105550142"
BOB_EMAIL = "bob.ng@example.com"
CSV_SOURCE = """
[[tenants.sources]]
kind = "csv"
name = "pos"
drop_dir = "./drop"
stable_seconds = 0
"""


def _real_now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def sandbox_phones(admin: SandboxAdmin) -> set[str]:
    return {str(c["phone"]) for c in admin.customers(WS_ONLINE)}


def test_a_redacted_shopify_customer_never_reaches_sticky_nor_do_their_orders(
        make_harness: Callable[..., Harness], admin: SandboxAdmin, fake: ShopifyFake,
        shop: RunningShopify) -> None:
    ada = fake.add_customer("Ada", "Lovelace", phone=ADA)
    # erased as Shopify does it (data gone, both states REDACTED)...
    carol = fake.add_customer("Carol", "Shaw", phone="+16505550111")
    fake.add_order(customer=carol, total="12.00")
    fake.redact_customer(carol)
    # ...and as another implementation might serve it: REDACTED with the data still there
    dave = fake.add_customer("Dave", "Cutler", phone="+17075550133", email_state="REDACTED",
                             sms_state="REDACTED")
    fake.add_order(customer=ada, total="20.00")
    fake.add_order(customer=dave, total="30.00")
    h = make_harness(sources=shopify_source(shop.base_url))
    report, _ = h.run()

    assert sandbox_phones(admin) == {ADA}
    assert [e["amount_cents"] for e in admin.events(WS_ONLINE)] == [2000]
    total = report.total
    assert total.skipped[CUSTOMER_ERASED] == 4  # two customers, two orders
    assert total.customers_erased == 2
    assert total.attention == []  # never synced: nothing to erase in Sticky
    report, _ = h.run()  # and on the next pass, still nothing of theirs
    assert sandbox_phones(admin) == {ADA} and len(admin.events(WS_ONLINE)) == 1


def _state_bytes(root: Path) -> bytes:
    return b"".join(p.read_bytes() for p in root.glob("state.db*"))


def _kept_files_text(drop: Path) -> str:
    return "".join(p.read_text("utf-8", errors="replace")
                   for folder in ("processed", "rejected") for p in (drop / folder).glob("*"))


def test_a_customer_redacted_after_being_synced_is_purged_and_listed_for_erasure(
        make_harness: Callable[..., Harness], admin: SandboxAdmin, fake: ShopifyFake,
        shop: RunningShopify) -> None:
    fake.add_customer("Ada", "Lovelace", phone=ADA, email="ada@example.com")
    bob = fake.add_customer("Bob", "Ng", phone=BOB, email=BOB_EMAIL)
    order = fake.add_order(customer=bob, total="42.00")
    h = make_harness(sources=shopify_source(shop.base_url) + CSV_SOURCE,
                     passes={"mint_on_create": True})
    # the same person in the store's POS export (other id, phone as typed), and a row
    # refused for its phone that still carries their e-mail
    drop_file(h.drop, "customers_1.csv", CUSTOMER_HEADER, [
        ["p9", "(510) 555-0142", BOB_EMAIL.upper(), "Bobby", "", "", "", "", "", "", ""],
        ["p10", "12", BOB_EMAIL, "Bob", "", "", "", "", "", "", ""],
        ["p11", "+1 415 555 0177", "eve@example.com", "Eve", "", "", "", "", "", "", ""]])
    report, _ = h.run()
    assert BOB in sandbox_phones(admin)
    [bob_in_sticky] = [c["id"] for c in admin.customers(WS_ONLINE) if c["phone"] == BOB]
    events_before = len(admin.events(WS_ONLINE))
    assert BOB.encode() in _state_bytes(h.root)  # the search below can find it
    assert "510" in _kept_files_text(h.drop) and BOB_EMAIL in _kept_files_text(h.drop)

    store = h.store()
    try:  # a Sticky webhook about them, as an independent Sticky might word one
        store.webhooks.store_event(WS_ONLINE, "evt_1", "customer.tier_changed", {
            "type": "customer.tier_changed", "data": {
                "customer_id": bob_in_sticky, "phone": BOB, "tier": "silver"}}, None)
    finally:
        store.close()
    fake.set_now(_real_now() - timedelta(minutes=3))
    fake.redact_customer(bob)
    fake.add_refund(order, "2.00")  # a refund of their order after the erasure
    report, _ = h.run()

    total = report.total
    assert total.customers_erased == 2  # the Shopify customer and the POS row, one phone
    assert total.skipped[CUSTOMER_ERASED] >= 2  # the customer, the refund
    assert len(admin.events(WS_ONLINE)) == events_before
    assert any(f"erase in Sticky: {bob_in_sticky}" in line for line in total.attention)
    # the two rows holding them in processed/, and the refused one in its errors report
    assert total.erased_rows_removed == 3
    state = _state_bytes(h.root)
    for needle in (BOB, "5105550142", BOB_EMAIL, "Bobby"):
        assert needle.encode() not in state and needle.upper().encode() not in state, needle
    assert ADA.encode() in state  # everyone else is still there
    kept = _kept_files_text(h.drop)
    assert "510" not in kept and BOB_EMAIL not in kept.lower() and "Eve" in kept
    store = h.store()
    try:
        items = store.attention.open_items("t1")
        assert [i.key for i in items if i.kind == "erase_in_sticky"] == [
            f"{WS_ONLINE}/{bob_in_sticky}"]
        assert store.passes.all("t1") and all(
            p.customer_id != bob_in_sticky for p in store.passes.all("t1"))
    finally:
        store.close()

    # the person who erases them in Sticky lists them, then marks them done
    config = str(h.root / "config.toml")
    listed = CliRunner().invoke(app, ["erasures", "list", "--json", "--config", config])
    assert listed.exit_code == 0, listed.output
    assert [e["customer_id"] for e in json.loads(listed.output)] == [bob_in_sticky]
    typo = CliRunner().invoke(app, ["erasures", "done", "cus_nope", "--config", config])
    assert typo.exit_code == 2 and "no erasure is owed for cus_nope" in typo.output
    done = CliRunner().invoke(app, ["erasures", "done", bob_in_sticky, "--config", config])
    assert done.exit_code == 0 and f"erased in Sticky: {bob_in_sticky}" in done.output
    listed = CliRunner().invoke(app, ["erasures", "list", "--config", config])
    assert "no erasure owed in Sticky" in listed.output

    # a later read that brings them back (a restored backup) is refused by the digest
    fake.set_now(_real_now() - timedelta(minutes=1))
    fake.update_customer(bob, phone=BOB, email=BOB_EMAIL, first_name="Bob",
                         sms_state="SUBSCRIBED", email_state="SUBSCRIBED")
    report, _ = h.run()
    assert report.total.skipped[CUSTOMER_ERASED] >= 1
    assert report.total.customers_created == report.total.customers_updated == 0
    assert BOB.encode() not in _state_bytes(h.root)


def test_the_same_phone_from_another_source_stays_out_until_released(
        make_harness: Callable[..., Harness], admin: SandboxAdmin, fake: ShopifyFake,
        shop: RunningShopify) -> None:
    """Sticky keys customers by phone: a later POS row or guest sale with an erased
    customer's phone would bring them back into the Sticky customer owed an erasure."""
    bob = fake.add_customer("Bob", "Ng", phone=BOB, email=BOB_EMAIL)
    h = make_harness(sources=shopify_source(shop.base_url) + CSV_SOURCE,
                     passes={"mint_on_create": True})
    h.run()
    fake.set_now(_real_now() - timedelta(minutes=3))
    fake.redact_customer(bob)
    h.run()
    customers_before, events_before = len(admin.customers()), len(admin.events())
    drop_file(h.drop, "customers_1.csv", CUSTOMER_HEADER, [
        ["p77", "(510) 555-0142", BOB_EMAIL, "Bobby", "", "", "", "", "", "", ""]])
    drop_file(h.drop, "orders_1.csv", ORDER_HEADER, [
        ["G1", "", "510.555.0142", "", "2026-11-01T10:00:00Z", "10.00", "", ""]])
    report, _ = h.run()
    [pos] = [o.summary for o in report.outcomes if o.source == "pos"]
    assert pos.skipped[CUSTOMER_ERASED] == 2
    assert (len(admin.customers()), len(admin.events())) == (customers_before,
                                                             events_before)
    assert BOB.encode() not in _state_bytes(h.root)
    assert "510" not in _kept_files_text(h.drop)  # the kept copies are scrubbed too
    store = h.store()
    try:  # nothing stored about the skipped rows, not even a skip naming them
        assert store.issues.open_reasons("t1", "pos", "skipped") == {}
    finally:
        store.close()

    # the person signs up anew and consents: a person lets that phone back in
    config = str(h.root / "config.toml")
    released = CliRunner().invoke(app, ["erasures", "release", "(510) 555-0142",
                                        "--config", config])
    assert released.exit_code == 0, released.output
    drop_file(h.drop, "customers_2.csv", CUSTOMER_HEADER, [
        ["p78", "(510) 555-0142", "", "Bob", "", "", "", "", "", "", ""]])
    report, _ = h.run()
    [pos] = [o.summary for o in report.outcomes if o.source == "pos"]
    assert pos.customers_created == 1 and not pos.skipped


def test_a_same_phone_customer_read_with_an_erased_one_is_not_sent(
        make_harness: Callable[..., Harness], admin: SandboxAdmin, fake: ShopifyFake,
        shop: RunningShopify) -> None:
    """Two records, one phone (one Sticky customer), one of them erased: the other is not
    sent either, whichever comes first (the erasure is planned before anything else of
    its batch; one in flight from an earlier batch is tests/state/test_erasures.py's)."""
    admin.set_faults(latency_ms=300)
    fake.add_customer("Bob", "Two", phone=BOB)
    fake.add_customer("Bob", "One", phone=BOB, email_state="REDACTED", sms_state="REDACTED")
    h = make_harness(sources=shopify_source(shop.base_url, batch_size=1),
                     passes={"mint_on_create": True})
    report, _ = h.run()
    sticky = [c["id"] for c in admin.customers(WS_ONLINE) if c["phone"] == BOB]
    store = h.store()
    try:
        owed = [i.key for i in store.attention.open_items("t1", "erasure")]
        assert store.passes.all("t1") == []
        with store.engine.connect() as conn:
            assert conn.execute(select(identities)).all() == []
        assert owed == [f"{WS_ONLINE}/{cid}" for cid in sticky]
    finally:
        store.close()
    assert BOB.encode() not in _state_bytes(h.root)
    assert report.total.skipped[CUSTOMER_ERASED] >= 1


@pytest.mark.parametrize("deleted", [True, False])
def test_a_blaze_member_marked_deleted_is_never_sent(
        make_harness: Callable[..., Harness], admin: SandboxAdmin,
        monkeypatch: pytest.MonkeyPatch, deleted: bool) -> None:
    """BLAZE documents ``Member.deleted``; the preset's ``erased_when`` reads it."""
    blaze = BlazePos(dispensary_key="blaze-key", shop_id="shop_1", seed=3)
    monkeypatch.setenv("BLAZE_PARTNER_KEY", "blaze-partner-key")
    monkeypatch.setenv("BLAZE_KEY", "blaze-key")
    member = blaze.add_member(cpn="+14155550188", primaryPhone=None, deleted=deleted)
    blaze.add_transaction(member["id"], items=[("p1", 1, 10.0)])
    with running_pos(blaze) as running:
        h = make_harness(sources=pos_source(
            PRESETS / "blaze.toml", running.base_url, name="blaze", variables={"location":
                                                                              "001"},
            secrets={"dispensary_key": "BLAZE_KEY"},
            start_date=(blaze.now() - timedelta(days=5)).date().isoformat()))
        report, _ = h.run()
    phones = {c["phone"] for c in admin.customers()}
    if deleted:
        assert "+14155550188" not in phones
        assert report.total.skipped[CUSTOMER_ERASED] >= 1
    else:
        assert "+14155550188" in phones
