"""``ShopifyFake.generate``: a realistic shop in bulk, fast (5,000 orders well under 2 s).

What it builds (seeded, so the same seed gives the same shop):

* ``locations`` retail stores in California (phones in the 555-01xx range), plus one store
  closed a few months ago (inactive, still referenced by old POS orders) and one legacy
  fulfillment-service location (hidden unless ``includeLegacy``);
* customers (default: one per four orders): ~92 % with an email at ``example.com``, ~80 %
  with a unique valid US phone ``+1AAA55501XX`` (AAA from a list of real area codes), email
  consent SUBSCRIBED / NOT_SUBSCRIBED / UNSUBSCRIBED / PENDING / REDACTED / INVALID, SMS
  consent SUBSCRIBED / NOT_SUBSCRIBED / UNSUBSCRIBED / PENDING / REDACTED;
* orders over the last ``days`` days, ids and names (``#1001``...) in ``processedAt`` order:
  ~55 % ``web``, ~33 % ``pos`` (with ``retailLocation``; 3 % of those without, like draft
  orders marked as paid on POS), ~7 % ``shopify_draft_order``, ~5 % an app id;
  ~15 % guests (``customer: null``; more of them on POS); ~1 % test orders;
  ~3 % POS orders synced late (``createdAt`` after ``processedAt``);
  1-4 line items from a small catalogue, 8.25 % tax on top of the subtotal;
  ~7 % with refunds (a few with two), ~2 % cancelled; ``updatedAt`` after the last change.
"""

from __future__ import annotations

import random
import time
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from tests.shopify_fake.model import Customer, Location, Refund, money

if TYPE_CHECKING:
    from tests.shopify_fake.fake import GenerateSummary, ShopifyFake

# US area codes that libphonenumber accepts with 555-01xx (checked in the fake's tests).
# fmt: off
AREA_CODES = (
    201, 202, 203, 205, 206, 207, 208, 209, 210, 212, 213, 214, 215, 216, 217, 218, 219, 224,
    225, 228, 229, 231, 234, 239, 240, 248, 251, 252, 253, 254, 256, 260, 262, 267, 269, 270,
    276, 281, 301, 302, 303, 304, 305, 307, 308, 309, 310, 312, 313, 314, 315, 316, 317, 318,
    319, 320, 321, 323, 325, 330, 331, 334, 336, 337, 339, 347, 351, 352, 360, 361, 386, 401,
    402, 404, 405, 406, 407, 408, 409, 410, 412, 413, 414, 415, 417, 419, 423, 424, 425, 430,
    432, 434, 435, 440, 443, 458, 469, 470, 475, 478, 479, 480, 484, 501, 502, 503, 504, 505,
    507, 508, 509, 510, 512, 513, 515, 516, 517, 518, 520, 530, 540, 541, 551, 559, 561, 562,
    563, 567, 570, 571, 573, 574, 575, 580, 585, 586, 601, 602, 603, 605, 606, 607, 608, 609,
    610, 612, 614, 615, 616, 617, 618, 619, 620, 623, 626, 630, 631, 636, 641, 646, 650, 651,
    657, 660, 661, 662, 678, 682, 701, 702, 703, 704, 706, 707, 708, 712, 713, 714, 715, 716,
    717, 718, 719, 720, 724, 727, 731, 732, 734, 740, 754, 757, 760, 762, 763, 765, 770, 772,
    773, 774, 775, 779, 781, 785, 786, 801, 802, 803, 804, 805, 806, 808, 810, 812, 813, 814,
    815, 816, 817, 818, 828, 830, 831, 832, 843, 845, 847, 848, 850, 856, 857, 858, 859, 860,
    862, 863, 864, 865, 870, 878, 901, 903, 904, 906, 907, 908, 909, 910, 912, 913, 914, 915,
    916, 917, 918, 919, 920, 925, 928, 931, 936, 937, 940, 941, 947, 949, 951, 952, 954, 956,
    970, 971, 972, 973, 978, 979, 980, 985, 989,
)
FIRST_NAMES = (
    "Olivia", "Liam", "Emma", "Noah", "Ava", "Mateo", "Sophia", "Elijah", "Isabella", "Lucas",
    "Mia", "Levi", "Amelia", "Ezra", "Harper", "Asher", "Evelyn", "James", "Luna", "Leo",
    "Camila", "Aiden", "Gianna", "Kai", "Aria", "Hiro", "Priya", "Diego", "Mei", "Tomas",
    "Fatima", "Omar", "Chloe", "Jamal", "Nora", "Santiago", "Zoe", "Andre", "Lila", "Ravi",
)
LAST_NAMES = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez",
    "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor",
    "Moore", "Jackson", "Martin", "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez",
    "Clark", "Ramirez", "Lewis", "Robinson", "Nguyen", "Kim", "Patel", "Chen", "Okafor",
    "O'Brien", "Silva", "Novak", "Haddad", "Tanaka",
)
# fmt: on
CATALOGUE = (
    ("BD-35", "Blue Dream - 3.5g", Decimal("35.00")),
    ("OGK-1G", "OG Kush Pre-Roll - 1g", Decimal("12.00")),
    ("GSC-7", "Girl Scout Cookies - 7g", Decimal("60.00")),
    ("SD-CART", "Sour Diesel Cartridge - 0.5g", Decimal("40.00")),
    ("GUM-10", "Watermelon Gummies 10 x 10mg", Decimal("22.00")),
    ("CHOC-100", "Dark Chocolate Bar 100mg", Decimal("25.00")),
    ("TINC-30", "CBD Tincture 30ml", Decimal("48.00")),
    ("BALM-2", "Relief Balm 2oz", Decimal("30.00")),
    ("PR-5PK", "Hybrid Pre-Roll 5-Pack", Decimal("45.00")),
    ("BAT-510", "510 Battery", Decimal("15.00")),
    ("GL-PIPE", "Glass Pipe", Decimal("28.00")),
    ("PAPERS", "Rolling Papers", Decimal("3.50")),
    (None, "Custom sale", Decimal("10.00")),
)
STORES = (
    ("Mission District", "2400 Mission St", "San Francisco", "94110", 415),
    ("Oakland Uptown", "1901 Broadway", "Oakland", "94612", 510),
    ("Berkeley", "2100 Shattuck Ave", "Berkeley", "94704", 510),
    ("San Jose Downtown", "88 S 2nd St", "San Jose", "95113", 408),
    ("Santa Cruz", "1110 Pacific Ave", "Santa Cruz", "95060", 831),
    ("Sacramento Midtown", "2000 K St", "Sacramento", "95811", 916),
    ("Los Angeles Arts District", "800 E 3rd St", "Los Angeles", "90013", 213),
    ("San Diego North Park", "3000 University Ave", "San Diego", "92104", 619),
)
EMAIL_STATES = (
    ("SUBSCRIBED", 40),
    ("NOT_SUBSCRIBED", 38),
    ("UNSUBSCRIBED", 15),
    ("PENDING", 3),
    ("REDACTED", 2),
    ("INVALID", 2),
)
SMS_STATES = (
    ("SUBSCRIBED", 35),
    ("NOT_SUBSCRIBED", 45),
    ("UNSUBSCRIBED", 15),
    ("PENDING", 3),
    ("REDACTED", 2),
)
TAX = Decimal("0.0825")


def phone_pool(rng: random.Random) -> list[str]:
    """Every ``+1AAA55501XX`` number, shuffled."""
    numbers = [f"+1{area}55501{n:02d}" for area in AREA_CODES for n in range(100)]
    rng.shuffle(numbers)
    return numbers


def _weighted(rng: random.Random, table: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([name for name, _ in table], weights=[w for _, w in table])[0]


def _between(rng: random.Random, start: datetime, end: datetime) -> datetime:
    span = max(0.0, (end - start).total_seconds())
    return (start + timedelta(seconds=rng.uniform(0, span))).replace(microsecond=0)


def _make_locations(
    fake: ShopifyFake, count: int, now: datetime
) -> tuple[list[Location], Location]:
    stores = []
    opened = now - timedelta(days=900)
    for index in range(max(1, count)):
        name, street, city, zip_code, area = STORES[index % len(STORES)]
        suffix = "" if index < len(STORES) else f" {index // len(STORES) + 1}"
        stores.append(
            fake.add_location(
                f"{name}{suffix}",
                address1=street,
                city=city,
                zip=zip_code,
                phone=f"+1{area}555{100 + index % 100:04d}",
                created_at=opened,
            )
        )
    closed = fake.add_location(
        "Haight Street (closed)",
        address1="1500 Haight St",
        city="San Francisco",
        zip="94117",
        phone="+14155550188",
        created_at=opened,
    )
    closed.is_active = False
    closed.deactivated_at = closed.updated_at = now - timedelta(days=90)
    fake.add_location(
        "Fulfillment partner",
        address1=None,
        city=None,
        province=None,
        province_code=None,
        zip=None,
        legacy=True,
        fulfills_online_orders=True,
        created_at=opened,
    )
    return stores, closed


def _make_customers(
    fake: ShopifyFake, rng: random.Random, count: int, start: datetime, now: datetime
) -> list[Customer]:
    phones = phone_pool(rng)
    made = []
    for index in range(count):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        local = f"{first}.{last}".lower().replace("'", "")
        has_email = rng.random() < 0.92
        has_phone = bool(phones) and (rng.random() < 0.80 or not has_email)
        email_state = _weighted(rng, EMAIL_STATES) if has_email else "NOT_SUBSCRIBED"
        sms_state = _weighted(rng, SMS_STATES) if has_phone else "NOT_SUBSCRIBED"
        created = _between(rng, start - timedelta(days=200), now - timedelta(hours=1))
        made.append(
            fake.add_customer(
                first,
                last,
                email=f"{local}{index + 1}@example.com" if has_email else None,
                phone=phones.pop() if has_phone else None,
                email_state=email_state,
                sms_state=sms_state,
                sms_collected_from=(
                    None if sms_state == "NOT_SUBSCRIBED" else rng.choice(("SHOPIFY", "OTHER"))
                ),
                state=rng.choice(("DISABLED", "DISABLED", "ENABLED")),
                tags=["vip"] if rng.random() < 0.05 else [],
                created_at=created,
            )
        )
    return made


def generate(
    fake: ShopifyFake,
    *,
    orders: int,
    customers: int | None,
    seed: int,
    days: int,
    locations: int,
) -> GenerateSummary:
    """Called by :meth:`ShopifyFake.generate` (which holds the lock)."""
    from tests.shopify_fake.fake import GenerateSummary  # noqa: PLC0415 - cycle

    started = time.perf_counter()
    rng = random.Random(seed)
    now = fake.now
    start = now - timedelta(days=days)
    stores, closed_store = _make_locations(fake, locations, now)
    customer_count = customers if customers is not None else max(1, orders // 4)
    people = _make_customers(fake, rng, customer_count, start, now)

    stamps = sorted(_between(rng, start, now - timedelta(minutes=5)) for _ in range(orders))
    stats = {"refunds": 0, "cancelled": 0, "pos": 0, "guest": 0, "test": 0, "items": 0}
    for processed in stamps:
        roll = rng.random()
        source = (
            "web"
            if roll < 0.55
            else "pos"
            if roll < 0.88
            else "shopify_draft_order"
            if roll < 0.95
            else "580111"
        )
        location_id = None
        if source == "pos":
            stats["pos"] += 1
            if rng.random() >= 0.03:
                early = (
                    processed < closed_store.deactivated_at
                    if closed_store.deactivated_at
                    else False
                )
                pick = closed_store if early and rng.random() < 0.15 else rng.choice(stores)
                location_id = pick.id
        guest = rng.random() < (0.30 if source == "pos" else 0.08)
        customer = None if guest or not people else rng.choice(people)
        if customer is not None and customer.created_at > processed:
            customer.created_at = customer.updated_at = processed - timedelta(
                minutes=rng.randint(1, 600)
            )
        stats["guest"] += customer is None
        created = processed
        if source == "pos" and rng.random() < 0.03:  # offline POS, synced later
            created = min(now, processed + timedelta(minutes=rng.randint(10, 2880)))
        picks = [rng.choice(CATALOGUE) for _ in range(rng.choice((1, 1, 1, 2, 2, 3, 4)))]
        specs = [(sku, rng.choice((1, 1, 1, 2, 3)), price, name) for sku, name, price in picks]
        subtotal = sum((Decimal(q) * p for _, q, p, _ in specs), Decimal("0.00"))
        total = money(subtotal * (1 + TAX))
        is_test = rng.random() < 0.01
        stats["test"] += is_test
        updated = min(now, created + timedelta(minutes=rng.choice((0, 0, 1, 30, 240, 2880))))
        guest_email = None
        if customer is None and source != "pos":
            guest_email = f"guest{rng.randint(1000, 99999)}@example.com"
        order = fake.insert_order(
            customer_id=customer.id if customer else None,
            total=total,
            subtotal=subtotal,
            source_name=source,
            retail_location_id=location_id,
            line_items=specs,
            test=is_test,
            created=created,
            processed=processed,
            updated=updated,
            email="auto" if customer else guest_email,
            phone="auto" if customer else None,
            currency=fake.shop.currency_code,
            source_identifier=None,
            financial_status="PAID",
            fulfillment_status="FULFILLED" if source == "pos" or updated > created else None,
            tags=[],
            note=None,
            bump_customer_at=created,
        )
        stats["items"] += len(order.line_items)
        _maybe_refund_or_cancel(fake, rng, order, now, stats)
    return GenerateSummary(
        locations=len(stores) + 2,
        customers=len(people),
        orders=orders,
        line_items=stats["items"],
        refunds=stats["refunds"],
        cancelled=stats["cancelled"],
        pos_orders=stats["pos"],
        guest_orders=stats["guest"],
        test_orders=stats["test"],
        seconds=time.perf_counter() - started,
    )


def _maybe_refund_or_cancel(
    fake: ShopifyFake, rng: random.Random, order: object, now: datetime, stats: dict[str, int]
) -> None:
    from tests.shopify_fake.model import Order  # noqa: PLC0415 - keep the signature light

    assert isinstance(order, Order)
    roll = rng.random()
    if roll < 0.07:
        count = 2 if rng.random() < 0.15 else 1
        for _ in range(count):
            when = min(now, order.created_at + timedelta(hours=rng.randint(1, 24 * 20)))
            share = Decimal(rng.choice(("0.25", "0.5", "1")))
            amount = money(order.current_total * share)
            if amount <= 0:
                break
            refund = Refund(
                id=fake.next_id("Refund"),
                order_id=order.id,
                amount=amount,
                created_at=when,
                updated_at=when,
                note=rng.choice((None, "Damaged item", "Customer changed mind")),
            )
            order.refunds.append(refund)
            fake.store.refunds[refund.id] = refund
            order.financial_status = (
                "REFUNDED" if order.current_total == 0 else "PARTIALLY_REFUNDED"
            )
            order.updated_at = max(order.updated_at, when)
            customer = fake.store.customers.get(order.customer_id or -1)
            if customer is not None and not order.test:
                customer.amount_spent = max(Decimal("0.00"), customer.amount_spent - amount)
            stats["refunds"] += 1
    elif roll < 0.09 and order.cancelled_at is None:
        when = min(now, order.created_at + timedelta(minutes=rng.randint(5, 600)))
        order.cancelled_at = when
        order.cancel_reason = rng.choice(("CUSTOMER", "INVENTORY", "OTHER", "DECLINED"))
        order.closed_at = order.closed_at or when
        order.updated_at = max(order.updated_at, when)
        for item in order.line_items:
            item.current_quantity = 0
        stats["cancelled"] += 1
