"""The shipped presets (examples/pos/*.toml) against fakes serving each POS's documented
paths, auth and shapes, through the whole engine into the sandbox."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from connector.sync.orchestrator import PassReport, run_backfill, sticky_client
from connector.sync.runner import BatchHook
from sandbox.testing import SandboxAdmin
from tests.pos_fake import running_pos
from tests.pos_fake.blaze import BlazePos
from tests.pos_fake.dutchie import DutchiePos
from tests.pos_fake.flowhub import FlowhubPos
from tests.pos_fake.treez import TreezPos
from tests.support import WS_DOWNTOWN, pos_source
from tests.sync.conftest import Harness

PRESETS = Path(__file__).resolve().parents[2] / "examples" / "pos"


def events(admin: SandboxAdmin, kind: str, workspace: str = WS_DOWNTOWN) -> list[int]:
    return [e["amount_cents"] for e in admin.events(workspace) if e["type"] == kind]


def test_dutchie_preset(make_harness: Callable[..., Harness], admin: SandboxAdmin,
                        monkeypatch: pytest.MonkeyPatch) -> None:

    fake = DutchiePos(now=datetime.now(UTC) - timedelta(hours=2))
    monkeypatch.setenv("DUTCHIE_LOCATION_KEY", fake.location_key)
    ada = fake.add_customer(modified_format="us")
    bob = fake.add_customer(phone="N/A", cellPhone="(415) 555-0177")
    nobody = fake.add_customer(phone="N/A", cellPhone=None)
    sale = fake.add_transaction(ada["customerId"], items=[(101, 2, 20.0)])
    second = fake.add_transaction(bob["customerId"], items=[(102, 1, 10.0)])
    fake.add_transaction(nobody["customerId"], items=[(103, 1, 5.0)])
    fake.add_return(sale["transactionId"], "12.05")
    with running_pos(fake) as pos:
        h = make_harness(sources=pos_source(PRESETS / "dutchie.toml", pos.base_url,
                                            variables={"location": "001"}))
        report, _ = h.run()
        assert report.total.events_sent == {"order.completed": 2, "order.refunded": 1}
        assert report.total.skipped["no_phone"] == 2  # the customer and their sale
        assert sorted(events(admin, "order.completed")) == sorted(
            round(t["total"] * 100) for t in (sale, second))
        assert events(admin, "order.refunded") == [1205]
        fake.void(second["transactionId"])
        report, _ = h.run()
        assert report.total.events_sent == {"order.refunded": 1}
        report, _ = h.run()
        assert sum(report.total.events_sent.values()) == 0
    assert sorted(events(admin, "order.refunded")) == sorted(
        [1205, round(second["total"] * 100)])
    requests: list[Any] = fake.requests
    assert any(r.query.get("fromLastModifiedDateUTC") for r in requests)


def test_treez_preset(make_harness: Callable[..., Harness], admin: SandboxAdmin,
                      monkeypatch: pytest.MonkeyPatch) -> None:

    fake = TreezPos(dispensaries=("partners-oakland",), token_ttl=7200,
                    now=datetime.now(UTC) - timedelta(hours=2))
    monkeypatch.setenv("TREEZ_CLIENT_ID", "treez-client-id")
    monkeypatch.setenv("TREEZ_API_KEY", "treez-api-key")
    ada = fake.add_customer(opt_out="true")
    bob = fake.add_customer(opt_out="false")
    sale = fake.add_ticket(int(ada["customer_id"]), items=[("P1", 2, 25.0)])
    fake.add_ticket(int(bob["customer_id"]), items=[("P2", 1, 10.0)])
    fake.add_refund(sale["ticket_id"], "10.00")
    with running_pos(fake) as pos:
        h = make_harness(sources=pos_source(
            PRESETS / "treez.toml", pos.base_url,
            variables={"dispensary": "partners-oakland", "location": "001"}))
        report, _ = h.run()
        assert report.exit_code == 0, report.outcomes
        assert report.total.events_sent == {"order.completed": 2, "order.refunded": 1}
        assert events(admin, "order.refunded") == [1000]
        store = h.store()
        try:  # ids namespaced by store: "001:T-0001"
            assert store.ledger.find("t1", "sticky", "order.completed",
                                     f"pos-api:001:{sale['ticket_id']}") is not None
        finally:
            store.close()
        fake.expire_tokens()
        report, _ = h.run()  # a new token is fetched; nothing is sent twice
        assert report.exit_code == 0 and sum(report.total.events_sent.values()) == 0
    opted_out = [c for c in admin.customers(WS_DOWNTOWN) if c.get("consent")]
    assert all(c["consent"]["sms"] is False for c in opted_out) and len(opted_out) == 1
    assert fake.token_requests == 2


def test_flowhub_preset(make_harness: Callable[..., Harness], admin: SandboxAdmin,
                        monkeypatch: pytest.MonkeyPatch) -> None:

    fake = FlowhubPos(now=datetime.now(UTC) - timedelta(hours=2))
    monkeypatch.setenv("FLOWHUB_CLIENT_ID", "flowhub-client-id")
    monkeypatch.setenv("FLOWHUB_API_KEY", "flowhub-api-key")
    ada = fake.add_customer(consentsToPromotionalSMS=True, isLoyal=True)
    bob = fake.add_customer(consentsToPromotionalSMS=False, isLoyal=True)
    sale = fake.add_order(ada["id"], items=[("p1", 1, 40.0)])
    fake.add_order(bob["id"], items=[("p2", 2, 5.0)])
    fake.add_refund(sale["id"], "11.70")
    import_id = fake.locations[0]["importId"]
    with running_pos(fake) as pos:
        h = make_harness(sources=pos_source(
            PRESETS / "flowhub.toml", pos.base_url,
            variables={"import_id": str(import_id), "location": "001"}))
        report, _ = h.run()
        assert report.exit_code == 0, report.outcomes
        assert report.total.events_sent == {"order.completed": 2, "order.refunded": 1}
        assert events(admin, "order.refunded") == [1170]
        assert report.total.locations_recorded == 1  # the store, for Sticker
        report, _ = h.run()
        assert sum(report.total.events_sent.values()) == 0
    dates = {r.query.get("created_after") for r in fake.requests
             if "findByLocationId" in r.path}
    assert dates and all(len(d or "") == 10 for d in dates)  # YYYY-MM-DD, never ISO
    consented = [c for c in admin.customers(WS_DOWNTOWN)
                 if (c.get("consent") or {}).get("sms") is True]
    assert [c["consent"]["source"] for c in consented] == ["flowhub:consentsToPromotionalSMS"]


def test_blaze_preset_with_every_refund_shape(make_harness: Callable[..., Harness],
                                              admin: SandboxAdmin,
                                              monkeypatch: pytest.MonkeyPatch) -> None:

    fake = BlazePos(now=datetime.now(UTC) - timedelta(hours=2))
    monkeypatch.setenv("BLAZE_PARTNER_KEY", "blaze-partner-key")
    monkeypatch.setenv("BLAZE_DISPENSARY_KEY", "blaze-dispensary-key")
    member = fake.add_member(textOptIn=True, enableLoyalty=True)
    sales = [fake.add_transaction(member["id"], items=[("p1", 1, 10.0), ("p2", 1, 20.0)])
             for _ in range(4)]
    with running_pos(fake) as pos:
        h = make_harness(sources=pos_source(PRESETS / "blaze.toml", pos.base_url,
                                            variables={"location": "001"}))
        report, _ = h.run()
        assert report.total.events_sent == {"order.completed": 4}
        fake.add_refund_transaction(sales[0]["id"], "5.00")
        fake.refund_original(sales[1]["id"], "6.00")
        fake.refund_items(sales[2]["id"], [0], set_status=True)
        fake.void(sales[3]["id"])
        report, _ = h.run()
        assert report.exit_code == 0, report.outcomes
        assert report.total.events_sent == {"order.refunded": 4}
        fake.refund_original(sales[1]["id"], "4.00")  # the running total grows to 10.00
        report, _ = h.run()
        assert report.total.events_sent == {"order.refunded": 1}
        report, _ = h.run()
        assert sum(report.total.events_sent.values()) == 0
        # a backfill of the period reads the same sales (nothing to send) and knows from
        # BLAZE's `total` how many it will read
        seen: list[int | None] = []
        day = datetime.now(UTC).date()
        report = _backfill(h, day - timedelta(days=2), day + timedelta(days=1),
                           lambda _s, _t, expected: seen.append(expected))
        assert report.exit_code == 0 and sum(report.total.events_sent.values()) == 0
        assert seen and seen[0] is not None and seen[0] >= 5  # 4 sales + 1 return at least
    refunds = sorted(events(admin, "order.refunded"))
    item = fake.transactions[sales[2]["id"]]["cart"]["items"][0]["totalRefundAmount"]
    assert refunds == sorted([500, 600, 400, round(item * 100),
                              round(sales[3]["cart"]["total"] * 100)])
    [customer] = admin.customers(WS_DOWNTOWN)
    assert customer["consent"]["sms"] is True
    assert customer["consent"]["source"] == "blaze:textOptIn"  # enableLoyalty is ignored


def _backfill(h: Harness, since: date, until: date, on_batch: BatchHook) -> PassReport:
    async def go() -> PassReport:
        store = h.store()
        try:
            async with sticky_client(h.settings) as sticky:
                return await run_backfill(h.settings, store, sticky, source_name="pos-api",
                                          since=since, until=until, on_batch=on_batch)
        finally:
            store.close()
    return asyncio.run(go())
