"""`sticky-sync backfill` of a Shopify source through bulk operations: JSONL children
joined by __parentId, resumable after SIGKILL, nothing delivered twice."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from connector.config import API_KEY_ENV, Settings
from connector.sync.orchestrator import PassReport, run_backfill, sticky_client
from sandbox import RunningSandbox, SandboxConfig
from sandbox.testing import SandboxAdmin, sandbox_server
from state import StateStore
from tests.shopify_fake import Order, ShopifyFake
from tests.shopify_fake.server import RunningShopify
from tests.support import (
    SHOPIFY_TOKEN_ENV,
    TEST_KEY,
    WS_DOWNTOWN,
    WS_EASTSIDE,
    WS_ONLINE,
    settings_for,
    shopify_source,
    write_config,
)
from tests.sync.conftest import Harness

WORKSPACES = (WS_ONLINE, WS_DOWNTOWN, WS_EASTSIDE)
SINCE = (datetime.now(UTC) - timedelta(days=400)).date()
UNTIL = (datetime.now(UTC) + timedelta(days=1)).date()


def backfill(settings: Settings, since: date = SINCE, until: date = UNTIL) -> PassReport:
    async def go() -> PassReport:
        store = StateStore.open(settings.state.url)
        try:
            async with sticky_client(settings) as sticky:
                return await run_backfill(settings, store, sticky, source_name="shopify",
                                          since=since, until=until)
        finally:
            store.close()
    return asyncio.run(go())


def eligible(fake: ShopifyFake, order: Order) -> bool:
    """Would earn an order.completed: a real, standing sale with a phone to key it on,
    whose customer's data was not erased (``REDACTED``: never sent, nor its orders)."""
    customer = fake.get_customer(order.customer_id) if order.customer_id else None
    if customer is not None and "REDACTED" in (customer.email_state, customer.sms_state):
        return False
    phone = (customer.phone if customer is not None else None) or order.phone
    return bool(phone) and not order.test and order.cancelled_at is None and (
        order.financial_status not in {"VOIDED", "EXPIRED"})


def expected_events(fake: ShopifyFake) -> Counter[str]:
    sent = [o for o in fake.orders if eligible(fake, o)]
    return Counter({"order.completed": len(sent),
                    "order.refunded": sum(len(o.refunds) for o in sent)})


def sandbox_events(admin: SandboxAdmin) -> list[dict[str, object]]:
    return [e for ws in WORKSPACES for e in admin.events(ws)]


def mapped(fake: ShopifyFake) -> dict[str, str]:
    """Every retail location of the shop in a store workspace (an unmapped one would
    make the pass `needs attention`)."""
    return {str(loc.id): (WS_DOWNTOWN, WS_EASTSIDE)[n % 2]
            for n, loc in enumerate(fake.locations)}


@pytest.fixture
def fake() -> ShopifyFake:
    return ShopifyFake(now=datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1))


def test_backfill_joins_line_items_and_never_resends(
        make_harness: Callable[..., Harness], admin: SandboxAdmin, fake: ShopifyFake,
        shop: RunningShopify) -> None:
    fake.generate(orders=150, customers=40, seed=5, days=300)
    h = make_harness(sources=shopify_source(shop.base_url, backfill_window_days=90),
                     workspaces=mapped(fake))
    report = backfill(h.settings)
    assert report.exit_code == 0, report.outcomes
    assert Counter(e["type"] for e in sandbox_events(admin)) == expected_events(fake)
    # Line items came as separate JSONL lines, anywhere in the file: each order got its own.
    store = h.store()
    try:
        for order in (o for o in fake.orders if eligible(fake, o)):
            entry = store.ledger.find("t1", "sticky", "order.completed", f"shopify:{order.id}")
            assert entry is not None and entry.status == "sent"
            assert sorted((i["sku"], i["qty"]) for i in entry.payload.get("items", [])) == (
                sorted((li.sku or f"shopify-line-{li.id}", li.quantity)
                       for li in order.line_items))
    finally:
        store.close()
    assert len(fake.bulk_operations) == -(-(UNTIL - SINCE).days // 90)  # one per window
    before = len(sandbox_events(admin))
    assert backfill(h.settings).exit_code == 0  # the same range again: already done
    report, _ = h.run()  # an incremental run over the same orders sends nothing new
    assert len(sandbox_events(admin)) == before
    assert sum(report.total.events_sent.values()) == 0


def test_a_failed_bulk_operation_stops_the_backfill_and_a_rerun_finishes_it(
        make_harness: Callable[..., Harness], admin: SandboxAdmin, fake: ShopifyFake,
        shop: RunningShopify) -> None:
    fake.generate(orders=60, customers=20, seed=6, days=100)
    h = make_harness(sources=shopify_source(shop.base_url, backfill_window_days=200),
                     workspaces=mapped(fake))
    fake.fail_next_bulk_operation("TIMEOUT", partial_lines=10)
    report = backfill(h.settings)
    assert report.exit_code == 4
    assert "TIMEOUT" in (report.outcomes[0].error or "")
    assert backfill(h.settings).exit_code == 0
    assert Counter(e["type"] for e in sandbox_events(admin)) == expected_events(fake)


@pytest.fixture
def fast_sandbox() -> Iterator[RunningSandbox]:
    with sandbox_server(SandboxConfig(rate_limit=None)) as running:
        yield running


def _start(config: Path, token: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, API_KEY_ENV: TEST_KEY, SHOPIFY_TOKEN_ENV: token,
           "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "connector", "backfill", "--config", str(config), "--source",
         "shopify", "--since", SINCE.isoformat(), "--until", UNTIL.isoformat()],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _kill_after(proc: subprocess.Popen[bytes], admin: SandboxAdmin, accepted: int) -> bool:
    target = admin.stats()["totals"]["accepted"] + accepted
    deadline = time.monotonic() + 120
    while proc.poll() is None and time.monotonic() < deadline:
        if admin.stats()["totals"]["accepted"] >= target:
            break
        time.sleep(0.02)
    running = proc.poll() is None
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    if proc.stderr is not None:
        proc.stderr.close()
    return running


@pytest.mark.slow
def test_a_5000_order_backfill_killed_twice_delivers_each_event_once(
        tmp_path: Path, fast_sandbox: RunningSandbox, fake: ShopifyFake,
        shop: RunningShopify) -> None:
    summary = fake.generate(orders=5000, customers=600, seed=7, days=360)
    assert summary.orders >= 5000
    config = write_config(tmp_path, fast_sandbox.base_url,
                          sticky={"rate_limit_per_second": 5000,
                                  "max_in_flight_per_workspace": 24},
                          sources=shopify_source(shop.base_url, backfill_window_days=120,
                                                 batch_size=250),
                          workspaces=mapped(fake))
    with SandboxAdmin(fast_sandbox) as admin:
        killed = [_kill_after(_start(config, shop.token), admin, n) for n in (1500, 2000)]
        assert killed == [True, True], "both kills must interrupt a running backfill"
        final = _start(config, shop.token)
        assert final.wait(timeout=300) == 0
        if final.stderr is not None:
            final.stderr.close()
        events = sandbox_events(admin)
        per_key = Counter(str(e["idempotency_key"]) for e in events)
        assert per_key and max(per_key.values()) == 1
        assert Counter(str(e["type"]) for e in events) == expected_events(fake)
    store = StateStore.open(settings_for(config).state.url)
    try:
        assert store.cursors.get("t1", "shopify", f"backfill:{SINCE}:{UNTIL}") is not None
        assert "orders" not in store.cursors.all_for("t1", "shopify")  # incremental untouched
    finally:
        store.close()
