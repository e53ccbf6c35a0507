"""The exact requests the Shopify adapter sends, pinned by vcrpy cassettes.

CI plays them back with record mode ``none``: a changed query document, variable, filter
or request order fails here. To re-record after an intended change (against the Shopify
fake, which is built on the real payload shapes)::

    STICKY_SYNC_RECORD_CASSETTES=1 .venv/bin/pytest tests/adapters/test_shopify_cassettes.py

Access tokens are filtered out of the cassettes, and customer phones and e-mails are
replaced, before anything is written.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path

from pydantic import SecretStr
from vcr.cassette import Cassette
from vcr.record_mode import RecordMode

from adapters.shopify import ShopifyAdapter, ShopifyBackfill, ShopifySettings
from tests.adapters.support import MemoryState, records, run
from tests.adapters.vcr_transport import cassette_transport
from tests.shopify_fake import ShopifyFake, running_shopify

CASSETTES = Path(__file__).parent / "cassettes"
RECORD = os.environ.get("STICKY_SYNC_RECORD_CASSETTES") == "1"
CLOCK = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
TOKEN = "shpat_test_token"


def scenario() -> ShopifyFake:
    fake = ShopifyFake(now=datetime(2026, 11, 20, 9, 0, tzinfo=UTC), seed=11)
    store = fake.add_location("Downtown", address1="1420 Broadway", city="Oakland",
                              province="California", province_code="CA", zip="94612")
    ada = fake.add_customer("Ada", "Lovelace", phone="+14155550123", sms_state="SUBSCRIBED",
                            sms_collected_from="SHOPIFY")
    bob = fake.add_customer("Bob", "Ng", phone="+15105550142", sms_state="UNSUBSCRIBED")
    for n in range(14):
        order = fake.add_order(customer=ada if n % 2 else bob, total=f"{10 + n}.50",
                               source_name="pos" if n % 3 == 0 else "web",
                               retail_location=store if n % 3 == 0 else None,
                               line_items=[("fl-og-3.5g", 1 + n % 2), ("pr-1g", 1)])
        if n == 4:
            fake.add_refund(order, "3.00")
    return fake


@contextmanager
def upstream() -> Iterator[str]:
    """The fake when recording; when playing back, a host nothing listens on."""
    if not RECORD:
        yield "http://shopify.test"
        return
    with running_shopify(scenario(), token=TOKEN) as shop:
        yield shop.base_url


def settings(base_url: str) -> ShopifySettings:
    return ShopifySettings(endpoint=base_url, api_version="2026-07", token=SecretStr(TOKEN),
                           page_size=50, lookback_seconds=600, safety_margin_seconds=60)


def test_incremental_requests_are_pinned() -> None:
    path = CASSETTES / "shopify_incremental.yaml"
    state = MemoryState()
    with upstream() as base, cassette_transport(path, record=RECORD) as transport:
        adapter = ShopifyAdapter(name="shopify", settings=settings(base),
                                 clock=CLOCK.timestamp, sleep=lambda _: None,
                                 transport=transport)
        first = records(run(adapter, state))
        second = records(run(adapter, state))  # the next window, overlapping by lookback
        played = transport.cassette.play_count
        unplayed = not transport.cassette.all_played
    assert Counter(type(r).__name__ for r in first) == {
        "LocationRecord": 1, "CustomerRecord": 2, "OrderRecord": 14, "RefundRecord": 1}
    assert state.cursors["orders"] == {"since": "2026-11-20T11:49:00Z",
                                       "until": "2026-11-20T11:59:00Z", "after": None,
                                       "done": True}
    # The location again, and the customers (their window reaches back a whole day); no
    # order: none was updated in the 10 minutes of overlap.
    assert Counter(type(r).__name__ for r in second) == {"LocationRecord": 1,
                                                         "CustomerRecord": 2}
    if not RECORD:
        assert played > 0 and not unplayed
    text = path.read_text(encoding="utf-8")
    assert TOKEN not in text and "+15105550142" not in text


def test_the_incremental_queries_quote_their_timestamps() -> None:
    cassette = Cassette.load(path=str(CASSETTES / "shopify_incremental.yaml"),
                             record_mode=RecordMode.NONE)
    bodies = [json.loads(request.body) for request in cassette.requests]
    filters = [b["variables"].get("q") for b in bodies if "OrdersDelta" in b["query"]]
    # The first run has no lower bound and sends no empty one.
    assert filters[0] == "updated_at:<'2026-11-20T11:59:00Z'"
    assert filters[-1] == ("updated_at:>='2026-11-20T11:49:00Z' AND "
                           "updated_at:<'2026-11-20T11:59:00Z'")


def test_backfill_requests_are_pinned() -> None:
    path = CASSETTES / "shopify_backfill.yaml"
    state = MemoryState()
    with upstream() as base, cassette_transport(path, record=RECORD) as transport:
        backfill = ShopifyBackfill(name="shopify", settings=settings(base),
                                   since=date(2026, 11, 1), until=date(2026, 11, 21),
                                   sleep=lambda _: None, transport=transport)
        found = records(run(backfill, state, batch_size=10))
        unplayed = not transport.cassette.all_played
    assert Counter(type(r).__name__ for r in found) == {"OrderRecord": 14, "RefundRecord": 1}
    assert state.cursors[backfill.stream]["done"] is True
    if not RECORD:
        assert not unplayed
