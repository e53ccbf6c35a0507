"""The loop closed over real HTTP: a Shopify customer synced into the Sticky sandbox gets a
pass; `webhooks subscribe` registers the daemon's receiver; a tier change in the sandbox
is delivered (three times), verified, stored once, applied, and tags the Shopify customer
once in the Shopify fake; a pass install is recorded."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from starlette.applications import Starlette

from connector.commands.webhooks import subscribe_command
from connector.daemon.server import HealthServer
from connector.daemon.webhooks import WebhookWorker
from connector.metrics import Metrics
from sandbox.testing import SandboxAdmin
from state import StateStore
from tests.shopify_fake import ShopifyFake, TagMutation
from tests.shopify_fake.server import RunningShopify
from tests.support import WS_ONLINE, free_port, shopify_source
from tests.sync.conftest import Harness

PHONE = "+14155550123"


async def until(check: Callable[[], Any], what: str, timeout: float = 15.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = await asyncio.to_thread(check)
        if value:
            return value
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def tag_changes(fake: ShopifyFake) -> list[tuple[str, tuple[str, ...]]]:
    return [(m.op, m.tags) for m in fake.tag_mutations if isinstance(m, TagMutation)
            and m.changed]


async def test_a_tier_change_reaches_the_receiver_is_stored_once_and_tags_shopify_once(
        make_harness: Callable[..., Harness], admin: SandboxAdmin, fake: ShopifyFake,
        shop: RunningShopify) -> None:
    ada = fake.add_customer("Ada", "Lovelace", phone=PHONE, sms_state="SUBSCRIBED",
                            sms_collected_from="SHOPIFY")
    fake.add_order(customer=ada, total="12.00")
    port = free_port()
    h = make_harness(
        sources=shopify_source(shop.base_url, write_back_tier=True),
        passes={"mint_on_create": True},
        webhooks={"url": f"http://127.0.0.1:{port}/webhooks/sticky/{{workspace}}",
                  "secrets_file": "./webhook-secrets.json"})
    report, _ = await h.run_async()
    assert report.exit_code == 0 and [p.minted for p in report.passes] == [1]
    [customer] = await asyncio.to_thread(admin.customers, WS_ONLINE)
    [minted] = await asyncio.to_thread(admin.passes, WS_ONLINE)

    done = await subscribe_command(h.settings)
    assert {d.action for d in done} == {"subscribed"}
    again = await subscribe_command(h.settings)  # idempotent: nothing sent
    assert {d.action for d in again} == {"already_subscribed"}
    hooks = await asyncio.to_thread(admin.webhooks)
    assert len(hooks) == len(done)  # one per workspace, none twice
    secrets_file = h.root / "webhook-secrets.json"
    assert secrets_file.stat().st_mode & 0o777 == 0o600

    store = StateStore.open(h.settings.state.url)
    worker = WebhookWorker(h.settings, store, Metrics())
    server = HealthServer(Starlette(routes=worker.routes()), "127.0.0.1", port)
    await server.start()
    worker.start()
    try:
        await asyncio.to_thread(admin.webhook_settings, duplicates=3)
        answer = await asyncio.to_thread(admin.set_tier, customer["id"], "gold")
        event_id = answer["event_id"]
        await asyncio.to_thread(admin.wait_for_deliveries)
        [sent] = [e for e in await asyncio.to_thread(admin.webhook_events, WS_ONLINE)
                  if e["id"] == event_id]
        attempts = [a for d in sent["deliveries"] for a in d["attempts"]]
        assert [a["status"] for a in attempts] == [200, 200, 200]

        await until(lambda: tag_changes(fake), "the tier tag in Shopify")
        [stored] = [e for e in store.webhooks.events() if e.event_id == event_id]
        assert stored.deliveries == 3 and stored.outcome == "applied"
        facts = store.webhooks.facts(WS_ONLINE, customer["id"])
        assert facts is not None and facts.tier == "gold"
        assert tag_changes(fake) == [("add", ("sticky-tier:gold",))]
        assert "sticky-tier:gold" in fake.get_customer(ada).tags

        # Sticky delivering the same event again, and the next sync (which sees the
        # customer again: the tag bumped its updatedAt) change nothing more
        await asyncio.to_thread(admin.redeliver, event_id)
        await worker.round()
        report, _ = await h.run_async()
        assert report.total.customers_updated == 0
        assert tag_changes(fake) == [("add", ("sticky-tier:gold",))]
        [stored] = [e for e in store.webhooks.events() if e.event_id == event_id]
        assert stored.deliveries == 6  # 3 copies each time

        # the customer installs the pass: recorded, never re-minted
        await asyncio.to_thread(admin.install_pass, minted["id"], "google")
        await until(lambda: (r := store.passes.get("t1", WS_ONLINE, customer["id"]))
                    is not None and r.status == "installed", "the install")

        # a later tier: the old tag goes, the new one comes, once each
        await asyncio.to_thread(admin.set_tier, customer["id"], "platinum")
        await until(lambda: len(tag_changes(fake)) == 3, "the new tier tag")
        assert tag_changes(fake) == [("add", ("sticky-tier:gold",)),
                                     ("remove", ("sticky-tier:gold",)),
                                     ("add", ("sticky-tier:platinum",))]
    finally:
        await worker.stop()
        await server.stop()
        store.close()


async def test_deliveries_missed_while_the_receiver_is_down_arrive_by_sticky_retries(
        make_harness: Callable[..., Harness], admin: SandboxAdmin, fake: ShopifyFake,
        shop: RunningShopify) -> None:
    """Sticky retries (6 attempts over 24 h, compressed here): a receiver that was down
    for the first attempts still gets the event, once."""
    fake.add_customer("Ada", "Lovelace", phone=PHONE)
    port = free_port()
    h = make_harness(
        sources=shopify_source(shop.base_url),
        webhooks={"url": f"http://127.0.0.1:{port}/webhooks/sticky/{{workspace}}",
                  "secrets_file": "./webhook-secrets.json"})
    await h.run_async()
    await subscribe_command(h.settings, [WS_ONLINE])
    [customer] = await asyncio.to_thread(admin.customers, WS_ONLINE)
    # gaps of 86400/31 s x 2^n x scale: 1.4 s, 2.8 s, 5.6 s...
    await asyncio.to_thread(admin.webhook_settings, time_scale=0.0005, timeout_seconds=2.0)
    answer = await asyncio.to_thread(admin.set_tier, customer["id"], "silver")

    def attempts() -> list[dict[str, Any]]:
        [event] = [e for e in admin.webhook_events(WS_ONLINE) if e["id"] == answer["event_id"]]
        return [a for d in event["deliveries"] for a in d["attempts"]]

    await until(lambda: len(attempts()) >= 1, "a first (failed) attempt")
    assert attempts()[0]["status"] is None  # nobody listening: a connection error
    store = StateStore.open(h.settings.state.url)
    worker = WebhookWorker(h.settings, store, Metrics())
    server = HealthServer(Starlette(routes=worker.routes()), "127.0.0.1", port)
    await server.start()
    worker.start()
    try:
        await until(lambda: store.webhooks.facts(WS_ONLINE, customer["id"]), "the tier",
                    timeout=20.0)
        statuses = [a["status"] for a in attempts()]
        assert statuses[-1] == 200 and statuses.count(200) == 1
        assert all(s is None for s in statuses[:-1])
        [stored] = store.webhooks.events()
        assert stored.deliveries == 1 and stored.outcome == "applied"
    finally:
        await worker.stop()
        await server.stop()
        store.close()
