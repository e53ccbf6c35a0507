"""``ShopifyFake.generate``: speed, realism, determinism."""

from __future__ import annotations

import time
from collections import Counter

import phonenumbers

from tests.shopify_fake import ShopifyFake
from tests.shopify_fake.generate import AREA_CODES
from tests.shopify_fake_tests.conftest import NOW
from tests.shopify_fake_tests.support import Shop, walk


def test_generate_5000_orders_is_fast() -> None:
    fake = ShopifyFake(now=NOW)
    started = time.perf_counter()
    summary = fake.generate(orders=5000, seed=7)
    elapsed = time.perf_counter() - started
    print(f"\ngenerate(orders=5000): {elapsed:.3f} s ({summary})")
    assert summary.orders == len(fake.orders) == 5000
    assert summary.customers == len(fake.customers) == 1250


def test_generated_data_is_realistic() -> None:
    fake = ShopifyFake(now=NOW)
    summary = fake.generate(orders=3000, seed=3)
    orders, customers = fake.orders, fake.customers
    sources = Counter(o.source_name for o in orders)
    assert {"web", "pos", "shopify_draft_order"} <= set(sources)
    pos = [o for o in orders if o.source_name == "pos"]
    assert sum(o.retail_location_id is not None for o in pos) > 0.9 * len(pos)
    assert any(o.retail_location_id is None for o in pos)
    assert summary.guest_orders == sum(o.customer_id is None for o in orders) > 0
    assert summary.refunds > 0 and summary.cancelled > 0 and summary.test_orders > 0
    assert any(o.created_at > o.processed_at for o in pos)  # offline POS, synced later
    names = [o.name for o in orders]
    assert names[0] == "#1001" and len(set(names)) == len(names)
    processed = [o.processed_at for o in orders]
    assert processed == sorted(processed)  # ids and names follow processedAt
    assert all(o.updated_at >= o.created_at for o in orders)
    assert max(o.updated_at for o in orders) <= NOW

    phones = [c.phone for c in customers if c.phone]
    assert 0.6 * len(customers) < len(phones) < len(customers)
    assert len(set(phones)) == len(phones) > 300
    assert all(c.email is None or c.email.endswith("@example.com") for c in customers)
    assert any(c.email is None for c in customers)
    email_states = Counter(c.email_state for c in customers if c.email)
    sms_states = Counter(c.sms_state for c in customers if c.phone)
    assert {"SUBSCRIBED", "UNSUBSCRIBED", "NOT_SUBSCRIBED", "REDACTED"} <= set(email_states)
    assert {"SUBSCRIBED", "UNSUBSCRIBED", "NOT_SUBSCRIBED", "REDACTED"} <= set(sms_states)
    assert all(
        c.created_at <= min((o.created_at for o in orders if o.customer_id == c.id), default=NOW)
        for c in customers
    )
    assert {loc.is_active for loc in fake.locations} == {True, False}


def test_generated_phones_are_valid_us_numbers() -> None:
    for area in AREA_CODES:
        for last in ("00", "57", "99"):
            number = phonenumbers.parse(f"+1{area}55501{last}")
            assert phonenumbers.is_valid_number(number), area
            assert phonenumbers.region_code_for_number(number) == "US", area
            assert phonenumbers.number_type(number) != phonenumbers.PhoneNumberType.TOLL_FREE
    assert len(AREA_CODES) * 100 >= 10_000


def test_generate_is_deterministic() -> None:
    def snapshot(seed: int) -> list[tuple[str, str, str | None]]:
        fake = ShopifyFake(now=NOW)
        fake.generate(orders=200, seed=seed)
        return [(o.name, str(o.total), o.source_name) for o in fake.orders]

    assert snapshot(1) == snapshot(1)
    assert snapshot(1) != snapshot(2)


def test_generated_shop_through_the_api(shop: Shop) -> None:
    shop.fake.generate(orders=300, seed=5)
    orders = walk(
        shop,
        "orders",
        "id customer { id } retailLocation { id } refunds { id }",
        args="sortKey: UPDATED_AT",
        page_size=100,
    )
    assert len(orders) == 300
    customers = walk(shop, "customers", "id defaultPhoneNumber { phoneNumber }", page_size=250)
    assert len(customers) == 75
    locations = shop.data(
        "{ locations(first: 50, includeInactive: true) { nodes { name isActive } } }"
    )
    assert len(locations["locations"]["nodes"]) == 5  # 4 stores + the closed one (legacy hidden)
