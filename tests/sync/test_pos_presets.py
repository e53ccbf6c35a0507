"""The shipped presets (examples/pos/*.toml) against fakes serving what each POS's
documents and public clients allow (both envelopes, capped windows, sentinels, junk
phones, a failing token endpoint...), each for a two-store tenant, through the whole
engine into the sandbox: events exactly once, customers once per workspace, consent as
the source gives it."""

from __future__ import annotations

import asyncio
from collections import Counter
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
from tests.support import WS_DOWNTOWN, WS_EASTSIDE, WS_ONLINE, pos_source
from tests.sync.conftest import Harness

PRESETS = Path(__file__).resolve().parents[2] / "examples" / "pos"
WORKSPACES = (WS_ONLINE, WS_DOWNTOWN, WS_EASTSIDE)


def events(admin: SandboxAdmin, kind: str, workspace: str) -> list[int]:
    return sorted(e["amount_cents"] for e in admin.events(workspace) if e["type"] == kind)


def phones(admin: SandboxAdmin, workspace: str) -> Counter[str]:
    return Counter(c["phone"] for c in admin.customers(workspace))


def cents(total: float) -> int:
    return round(abs(total) * 100)


def assert_settled_once(h: Harness) -> None:
    """A run that reads everything again sends nothing."""
    report, _ = h.run()
    assert report.exit_code == 0, report.outcomes
    assert sum(report.total.events_sent.values()) == 0
    assert report.total.customers_created == report.total.customers_updated == 0


# -- Dutchie: one key per store, a company-wide customer list, capped windows -------------
@pytest.mark.parametrize("envelope", ["bare", "data"])
def test_dutchie_two_stores_two_keys(make_harness: Callable[..., Harness],
                                     admin: SandboxAdmin, monkeypatch: pytest.MonkeyPatch,
                                     envelope: str) -> None:
    # the POS's clock a few minutes behind ours (a sale is stamped "modified" 5 s after it)
    fake = DutchiePos(locations=[("key-downtown", 4211, "Downtown"),
                                 ("key-eastside", 4212, "Eastside")], envelope=envelope,
                      now=datetime.now(UTC) - timedelta(minutes=3))
    monkeypatch.setenv("DUTCHIE_KEY_001", "key-downtown")
    monkeypatch.setenv("DUTCHIE_KEY_002", "key-eastside")
    now = fake.now()
    # a junk cellPhone beside a good phone; a customer whose modification date is the
    # 1900 sentinel; one with no phone at all
    ada = fake.add_customer(cellPhone="(555) 123-4567", phone="(415) 555-0141")
    bob = fake.add_customer(modified_format="sentinel", modified=now - timedelta(days=200))
    nobody = fake.add_customer(phone="N/A", cellPhone=None)
    # a history longer than the 1440-hour cap: sales 150, 100 and 10 days ago, and today
    old = fake.add_transaction(ada["customerId"], items=[(101, 2, 20.0)],
                               transaction_date=now - timedelta(days=150))
    mid = fake.add_transaction(bob["customerId"], items=[(102, 1, 10.0)],
                               transaction_date=now - timedelta(days=100),
                               location_key="key-eastside")
    recent = fake.add_transaction(ada["customerId"], items=[(103, 1, 30.0)],
                                  transaction_date=now - timedelta(days=10),
                                  location_key="key-eastside")
    today = fake.add_transaction(bob["customerId"], items=[(104, 3, 5.0)])
    fake.add_transaction(nobody["customerId"], items=[(105, 1, 5.0)])
    start = (now - timedelta(days=200)).date().isoformat()
    with running_pos(fake) as pos:
        sources = "".join(pos_source(
            PRESETS / "dutchie.toml", pos.base_url, name=f"dutchie-{store}",
            variables={"location": store}, secrets={"location_key": f"DUTCHIE_KEY_{store}"},
            start_date=start) for store in ("001", "002"))
        h = make_harness(sources=sources)
        report, _ = h.run()
        assert report.exit_code == 0, report.outcomes
        assert report.total.events_sent == {"order.completed": 4}
        assert report.total.skipped["no_phone"] == 3  # nobody, read by both, and her sale
        fake.add_return(old["transactionId"], "12.05")
        fake.void(recent["transactionId"])
        report, _ = h.run()
        assert report.exit_code == 0, report.outcomes
        assert report.total.events_sent == {"order.refunded": 2}
        assert_settled_once(h)
    assert events(admin, "order.completed", WS_DOWNTOWN) == sorted(
        cents(t["total"]) for t in (old, today))
    assert events(admin, "order.completed", WS_EASTSIDE) == sorted(
        cents(t["total"]) for t in (mid, recent))
    assert events(admin, "order.refunded", WS_DOWNTOWN) == [1205]
    assert events(admin, "order.refunded", WS_EASTSIDE) == [cents(recent["total"])]
    # the company's list was read by both stores' sources: each customer once per
    # workspace (ada's good phone, not her junk cellPhone)
    for workspace in WORKSPACES:
        assert all(n == 1 for n in phones(admin, workspace).values())
    assert phones(admin, WS_ONLINE) == {"+14155550141": 1, bob_phone(bob): 1}
    # every transactions query spanned at most 1440 hours; the first read had no lower
    # bound on customers (so the 1900-sentinel customer was read)
    for request in fake.requests_to("/reporting/transactions"):
        lower = datetime.fromisoformat(request.query["FromLastModifiedDateUTC"]
                                       .replace("Z", "+00:00"))
        upper = datetime.fromisoformat(request.query["ToLastModifiedDateUTC"]
                                       .replace("Z", "+00:00"))
        assert upper - lower <= timedelta(hours=1440)
    first = fake.requests_to("/customer/customers-paginated")[0]
    assert "fromLastModifiedDateUTC" not in first.query
    assert {r.headers["authorization"] for r in fake.requests} >= {
        basic("key-downtown"), basic("key-eastside")}


def bob_phone(record: dict[str, Any]) -> str:
    from connector.mapping.phone import normalize_phone  # noqa: PLC0415

    return normalize_phone(record["cellPhone"] or record["phone"], "US")


def basic(key: str) -> str:
    import base64  # noqa: PLC0415

    return "Basic " + base64.b64encode(f"{key}:".encode()).decode()


# -- Treez: ids unique per dispensary, its own tokens, newest-first lists -----------------
def test_treez_two_dispensaries(make_harness: Callable[..., Harness], admin: SandboxAdmin,
                                monkeypatch: pytest.MonkeyPatch) -> None:
    # a token Treez no longer honours is answered 200 without the records (as tap-treez
    # handles it), not 401
    fake = TreezPos(dispensaries=("partners-oakland", "partners-berkeley"), token_ttl=7200,
                    invalid_token_with_200=True)
    monkeypatch.setenv("TREEZ_CLIENT_ID", "treez-client-id")
    monkeypatch.setenv("TREEZ_API_KEY", "treez-api-key")
    # both dispensaries number their customers from "100001": different people
    ada = fake.add_customer(dispensary="partners-oakland", opt_out="true")
    cy = fake.add_customer(dispensary="partners-berkeley", opt_out="false")
    assert ada["customer_id"] == cy["customer_id"]
    sale = fake.add_ticket(int(ada["customer_id"]), dispensary="partners-oakland",
                           items=[("P1", 2, 25.0)])
    other = fake.add_ticket(int(cy["customer_id"]), dispensary="partners-berkeley",
                            items=[("P2", 1, 10.0)], type="DELIVERY")
    pending = fake.add_pending_ticket(int(cy["customer_id"]), dispensary="partners-berkeley",
                                      items=[("P3", 1, 30.0)])
    fake.add_refund(sale["ticket_id"], "10.00", dispensary="partners-oakland")
    with running_pos(fake) as pos:
        sources = "".join(pos_source(
            PRESETS / "treez.toml", pos.base_url, name=f"treez-{store}",
            variables={"dispensary": dispensary, "location": store})
            for store, dispensary in (("001", "partners-oakland"),
                                      ("002", "partners-berkeley")))
        h = make_harness(sources=sources)
        fake.server_errors_next = 1  # the first request, a token request, answers 503
        report, _ = h.run()
        assert report.exit_code == 0, report.outcomes
        assert report.total.events_sent == {"order.completed": 2, "order.refunded": 1}
        assert report.total.skipped["order_not_completed"] == 1
        assert fake.statuses[0] == 503 and "gettokens" in fake.requests[0].path
        fake.complete(pending["ticket_id"], dispensary="partners-berkeley")
        report, _ = h.run()
        assert report.total.events_sent == {"order.completed": 1}
        fake.expire_tokens()
        before = fake.token_requests
        assert_settled_once(h)  # a new token is fetched; nothing is sent twice
        assert fake.token_requests == before + 2  # one per dispensary
    assert events(admin, "order.completed", WS_DOWNTOWN) == [cents(sale["total"])]
    assert events(admin, "order.completed", WS_EASTSIDE) == sorted(
        [cents(other["total"]), cents(pending["total"])])
    assert events(admin, "order.refunded", WS_DOWNTOWN) == [1000]
    # opt_out "true" is an opt-out; "false" says nothing (never an opt-in)
    [downtown] = admin.customers(WS_DOWNTOWN)
    assert downtown["consent"]["sms"] is False
    [eastside] = admin.customers(WS_EASTSIDE)
    assert not eastside.get("consent")


# -- Flowhub: an org-wide customer list, orders per location, amounts in cents ------------
@pytest.mark.parametrize("envelope", ["data", "customers", "bare"])
def test_flowhub_two_locations(make_harness: Callable[..., Harness], admin: SandboxAdmin,
                               monkeypatch: pytest.MonkeyPatch, envelope: str) -> None:
    fake = FlowhubPos(locations=(), customers_envelope=envelope)  # type: ignore[arg-type]
    fake.add_location("Detroit", import_id="001")
    fake.add_location("Lansing", import_id="002")
    monkeypatch.setenv("FLOWHUB_CLIENT_ID", "flowhub-client-id")
    monkeypatch.setenv("FLOWHUB_API_KEY", "flowhub-api-key")
    ada = fake.add_customer(consentsToPromotionalSMS=True, isLoyal=True)
    bob = fake.add_customer(consentsToPromotionalSMS=False, isLoyal=True)
    sale = fake.add_order(ada["id"], location="001", items=[("p1", 1, 40.0)])
    second = fake.add_order(bob["id"], location="002", items=[("p2", 2, 5.0)])
    third = fake.add_order(ada["id"], location="002", items=[("p3", 1, 12.0)])
    fake.add_refund(sale["id"], "11.70")
    with running_pos(fake) as pos:
        sources = "".join(pos_source(
            PRESETS / "flowhub.toml", pos.base_url, name=f"flowhub-{store}",
            variables={"import_id": store}) for store in ("001", "002"))
        h = make_harness(sources=sources)
        report, _ = h.run()
        assert report.exit_code == 0, report.outcomes
        assert report.total.events_sent == {"order.completed": 3, "order.refunded": 1}
        assert not report.total.notes  # cents read as cents: nothing looks off
        fake.void(third["id"])
        report, _ = h.run()
        assert report.total.events_sent == {"order.refunded": 1}
        assert_settled_once(h)
    assert events(admin, "order.completed", WS_DOWNTOWN) == [
        cents(fake.dollars(sale["totals"]["FinalTotal"]))]
    assert events(admin, "order.completed", WS_EASTSIDE) == sorted(
        cents(fake.dollars(o["totals"]["FinalTotal"])) for o in (second, third))
    assert events(admin, "order.refunded", WS_DOWNTOWN) == [1170]
    assert events(admin, "order.refunded", WS_EASTSIDE) == [
        cents(fake.dollars(third["totals"]["FinalTotal"]))]
    for workspace in WORKSPACES:  # read by both sources, sent once per workspace
        assert all(n == 1 for n in phones(admin, workspace).values())
    assert len(admin.customers(WS_ONLINE)) == 2
    consented = [c for c in admin.customers(WS_ONLINE)
                 if (c.get("consent") or {}).get("sms") is True]
    assert [c["consent"]["source"] for c in consented] == ["flowhub:consentsToPromotionalSMS"]
    declined = [c for c in admin.customers(WS_ONLINE)
                if (c.get("consent") or {}).get("sms") is False]
    assert len(declined) == 1  # isLoyal is never consent
    dates = [r.query.get(key) for r in fake.requests for key in
             ("created_after", "updated_after") if key in r.query]
    assert dates and all(isinstance(d, str) and len(d) == 10 and d[4] == "-"
                         for d in dates)  # YYYY-MM-DD


# -- BLAZE: a dispensary key per shop, day-string windows, three refund shapes ------------
@pytest.mark.parametrize("end_inclusive", [True, False])
def test_blaze_two_shops(make_harness: Callable[..., Harness], admin: SandboxAdmin,
                         monkeypatch: pytest.MonkeyPatch, end_inclusive: bool) -> None:
    shops = {store: BlazePos(dispensary_key=f"blaze-key-{store}", shop_id=f"shop_{store}",
                             end_inclusive=end_inclusive, max_window_days=7, seed=n)
             for n, store in enumerate(("001", "002"))}
    monkeypatch.setenv("BLAZE_PARTNER_KEY", "blaze-partner-key")
    for store in shops:
        monkeypatch.setenv(f"BLAZE_KEY_{store}", f"blaze-key-{store}")
    downtown, eastside = shops["001"], shops["002"]
    now = downtown.now()
    # the company's member, listed by both shops; a junk primaryPhone beside a good cpn
    member = downtown.add_member(textOptIn=True, enableLoyalty=True,
                                 primaryPhone="0", cpn="+14155550177")
    eastside.add_member(**{k: v for k, v in member.items() if k != "modified"})
    loyal = eastside.add_member(textOptIn=False, enableLoyalty=True)
    # a history longer than the 7-day windows: sales 20 and 9 days ago, and today
    sales = [downtown.add_transaction(member["id"], items=[("p1", 1, 10.0), ("p2", 1, 20.0)],
                                      completed=now - timedelta(days=days))
             for days in (20, 9, 0, 0)]
    east = eastside.add_transaction(loyal["id"], items=[("p3", 2, 15.0)])
    with running_pos(downtown) as one, running_pos(eastside) as two:
        sources = "".join(pos_source(
            PRESETS / "blaze.toml", running.base_url, name=f"blaze-{store}",
            variables={"location": store}, secrets={"dispensary_key": f"BLAZE_KEY_{store}"},
            start_date=(now - timedelta(days=30)).date().isoformat())
            for store, running in (("001", one), ("002", two)))
        h = make_harness(sources=sources)
        report, _ = h.run()
        assert report.exit_code == 0, report.outcomes
        assert report.total.events_sent == {"order.completed": 5}
        assert report.total.locations_recorded == 2  # each shop's /store, for Sticker
        downtown.add_refund_transaction(sales[0]["id"], "5.00")
        downtown.refund_original(sales[1]["id"], "6.00")
        downtown.refund_items(sales[2]["id"], [0], set_status=True)
        downtown.void(sales[3]["id"])
        report, _ = h.run()
        assert report.exit_code == 0, report.outcomes
        assert report.total.events_sent == {"order.refunded": 4}
        downtown.refund_original(sales[1]["id"], "4.00")  # the running total grows to 10.00
        report, _ = h.run()
        assert report.total.events_sent == {"order.refunded": 1}
        assert_settled_once(h)
        # a backfill of the period reads the same sales (nothing to send) and knows from
        # BLAZE's `total` how many it will read
        seen: list[int | None] = []
        day = datetime.now(UTC).date()
        report = _backfill(h, day - timedelta(days=2), day + timedelta(days=1),
                           lambda _s, _t, expected: seen.append(expected))
        assert report.exit_code == 0 and sum(report.total.events_sent.values()) == 0
        assert seen and seen[0] is not None and seen[0] >= 3
    item = downtown.transactions[sales[2]["id"]]["cart"]["items"][0]["totalRefundAmount"]
    assert events(admin, "order.refunded", WS_DOWNTOWN) == sorted(
        [500, 600, 400, round(item * 100), cents(sales[3]["cart"]["total"])])
    assert events(admin, "order.completed", WS_EASTSIDE) == [cents(east["cart"]["total"])]
    for workspace in WORKSPACES:
        assert all(n == 1 for n in phones(admin, workspace).values())
    [shared] = [c for c in admin.customers(WS_ONLINE) if c["phone"] == "+14155550177"]
    assert shared["consent"]["sms"] is True
    assert shared["consent"]["source"] == "blaze:textOptIn"  # enableLoyalty is ignored
    for fake in shops.values():
        for request in fake.requests_to("/api/v1/partner/transactions"):
            lower = datetime.strptime(request.query["startDate"], "%m/%d/%Y")
            upper = datetime.strptime(request.query["endDate"], "%m/%d/%Y")
            assert upper - lower <= timedelta(days=8)  # 7-day windows, a date upper bound
        assert all(r.headers.get("authorization") == fake.dispensary_key
                   for r in fake.requests)


def _backfill(h: Harness, since: date, until: date, on_batch: BatchHook) -> PassReport:
    async def go() -> PassReport:
        store = h.store()
        try:
            async with sticky_client(h.settings) as sticky:
                return await run_backfill(h.settings, store, sticky, source_name="blaze-001",
                                          since=since, until=until, on_batch=on_batch)
        finally:
            store.close()
    return asyncio.run(go())
