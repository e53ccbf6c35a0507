"""``ShopifyFake``: the shop's data, its clock, its rate-limit bucket, faults and request log.

Everything mutable lives here and is guarded by one re-entrant lock: the HTTP server runs in
another thread, and each GraphQL request runs entirely under the lock (a consistent
snapshot, like one database transaction).
"""

from __future__ import annotations

import random
import secrets
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tests.shopify_fake.model import (
    Address,
    BulkOperation,
    Customer,
    LineItem,
    Location,
    Order,
    Refund,
    Shop,
    money,
    parse_gid,
    utc_seconds,
)
from tests.shopify_fake.pagination import CursorRegistry
from tests.shopify_fake.ratelimit import LeakyBucket

DEFAULT_SCOPES = (
    "read_orders",
    "read_all_orders",
    "read_customers",
    "write_customers",
    "read_locations",
)
SUPPORTED_VERSIONS = ("2026-01", "2026-04", "2026-07", "2026-10")
ORDER_HISTORY_WITHOUT_READ_ALL_ORDERS = timedelta(days=60)

EMAIL_STATES = frozenset(
    {"INVALID", "NOT_SUBSCRIBED", "PENDING", "REDACTED", "SUBSCRIBED", "UNSUBSCRIBED"}
)
SMS_STATES = frozenset({"NOT_SUBSCRIBED", "PENDING", "REDACTED", "SUBSCRIBED", "UNSUBSCRIBED"})
OPT_IN_LEVELS = frozenset({"CONFIRMED_OPT_IN", "SINGLE_OPT_IN", "UNKNOWN"})
COLLECTED_FROM = frozenset({"OTHER", "SHOPIFY"})
CUSTOMER_STATES = frozenset({"DECLINED", "DISABLED", "ENABLED", "INVITED"})
CANCEL_REASONS = frozenset({"CUSTOMER", "DECLINED", "FRAUD", "INVENTORY", "OTHER", "STAFF"})
BULK_ERROR_CODES = frozenset({"ACCESS_DENIED", "INTERNAL_SERVER_ERROR", "TIMEOUT"})

AUTO = "auto"
"""Default of ``email``/``phone`` arguments meaning "derive it" (see each method)."""

# First ids: the magnitudes of real ids of each kind in 2025-2026 shops.
_FIRST_IDS = {
    "Location": 61_234_560_000,
    "Customer": 7_204_650_000_000,
    "Order": 5_612_380_000_000,
    "LineItem": 14_126_500_000_000,
    "Refund": 931_876_000_000,
    "BulkOperation": 4_046_676_520_000,
}
_ID_STEP = {"LineItem": 7, "BulkOperation": 1}


@dataclass(frozen=True)
class RecordedRequest:
    """One request to the GraphQL endpoint, as the fake answered it."""

    query: str | None
    variables: dict[str, Any] | None
    operation_name: str | None
    version: str
    status: int
    cost: int | None
    """``actualQueryCost`` charged; None when the query did not run."""
    requested_cost: int | None
    error_codes: tuple[str, ...] = ()

    @property
    def throttled(self) -> bool:
        return "THROTTLED" in self.error_codes


@dataclass(frozen=True)
class TagMutation:
    """One ``tagsAdd``/``tagsRemove`` the fake executed (see :attr:`ShopifyFake.tag_mutations`)."""

    customer_id: int | None
    """The number of the ``id`` argument's gid (None when it is not a gid)."""
    op: str
    """``"add"`` or ``"remove"``."""
    tags: tuple[str, ...]
    """The tags asked for, as Shopify reads them: split on commas, trimmed, blanks dropped."""
    changed: bool
    """True when the customer's tags actually changed (and its ``updatedAt`` was bumped)."""
    applied: tuple[str, ...] = ()
    """The tags actually added (as given) or removed (as they were stored)."""
    error: str | None = None
    """``"ACCESS_DENIED"`` or the userError message when the mutation was refused."""


@dataclass
class Store:
    """The records. Read and written only under :attr:`ShopifyFake.lock`."""

    locations: dict[int, Location] = field(default_factory=dict)
    customers: dict[int, Customer] = field(default_factory=dict)
    orders: dict[int, Order] = field(default_factory=dict)
    refunds: dict[int, Refund] = field(default_factory=dict)
    line_items: dict[int, tuple[LineItem, int]] = field(default_factory=dict)
    bulk_operations: dict[int, BulkOperation] = field(default_factory=dict)


def _default_shop(domain: str, name: str, timezone: str, currency: str) -> Shop:
    return Shop(
        id=68_412_905_761,
        name=name,
        email="owner@example.com",
        contact_email="hello@example.com",
        myshopify_domain=domain,
        primary_domain=f"www.{domain.split('.', 1)[0]}.example.com",
        iana_timezone=timezone,
        timezone_abbreviation="EDT" if timezone == "America/New_York" else "UTC",
        currency_code=currency,
        billing_address=Address(
            address1="500 Terry A Francois Blvd",
            address2="Suite 300",
            city="San Francisco",
            province="California",
            province_code="CA",
            zip="94158",
            phone="+14155550100",
            company=name,
            latitude=37.7706,
            longitude=-122.3872,
        ),
    )


def _opt_in_for(state: str) -> str | None:
    if state == "PENDING":
        return "CONFIRMED_OPT_IN"
    if state in ("SUBSCRIBED", "UNSUBSCRIBED"):
        return "SINGLE_OPT_IN"
    return None


def _check(value: str | None, allowed: frozenset[str], what: str) -> None:
    if value is not None and value not in allowed:
        raise ValueError(f"{what} must be one of {sorted(allowed)}, not {value!r}")


class ShopifyFake:
    """A fake Shopify shop for tests; serve it with :func:`tests.shopify_fake.running_shopify`.

    ``now``/``clock``: the shop's clock for ``createdAt``/``updatedAt`` of changes and for
    ``now`` in search filters. By default a manual clock starting at the real time (whole
    seconds) that only moves with :meth:`advance`/:meth:`set_now`; pass ``clock`` (a callable
    returning an aware datetime) to drive it yourself. The rate-limit bucket and the
    ``bulk_seconds_until_done`` timer always use the real monotonic clock.
    """

    def __init__(
        self,
        *,
        shop_name: str = "Sticky Test Dispensary",
        myshopify_domain: str = "sticky-test.myshopify.com",
        timezone: str = "America/New_York",
        currency: str = "USD",
        now: datetime | None = None,
        clock: Callable[[], datetime] | None = None,
        maximum_available: float = 2000.0,
        restore_rate: float = 100.0,
        throttle_status: int = 200,
        scopes: Iterable[str] = DEFAULT_SCOPES,
        api_versions: Sequence[str] = SUPPORTED_VERSIONS,
        bulk_polls_until_done: int = 2,
        bulk_seconds_until_done: float | None = None,
        max_concurrent_bulk_operations: int = 5,
        protected_customer_data: bool = True,
        seed: int = 0,
    ) -> None:
        self.lock = threading.RLock()
        self.protected_customer_data = protected_customer_data
        """False: the app is not approved for protected customer data, and a customers
        query is answered HTTP 200 with an error (reference shopify.md §1.5)."""
        self.store = Store()
        self.cursors = CursorRegistry()
        self.shop = _default_shop(myshopify_domain, shop_name, timezone, currency)
        self._clock = clock
        self._now = utc_seconds(now or datetime.now(UTC))
        self.bucket = LeakyBucket(maximum_available, restore_rate)
        self.throttle_status = throttle_status
        self._scopes = list(dict.fromkeys(scopes))
        self.api_versions = tuple(api_versions)
        # bulk operations
        self.bulk_polls_until_done = bulk_polls_until_done
        self.bulk_seconds_until_done = bulk_seconds_until_done
        self.max_concurrent_bulk_operations = max_concurrent_bulk_operations
        self.bulk_rng = random.Random(seed)
        self.url_secret = secrets.token_hex(16)
        self._bulk_faults: list[tuple[str, int]] = []
        # faults (plain attributes: set them any time)
        self.server_errors_next = 0
        """The next N GraphQL requests get HTTP ``server_error_status`` with an HTML body."""
        self.server_error_status = 503
        self.internal_error_next = 0
        """The next N GraphQL requests get HTTP 200 with a top-level INTERNAL_SERVER_ERROR."""
        self.download_errors_next = 0
        """The next N bulk result downloads get HTTP 503."""
        self.latency_seconds = 0.0
        self.disconnects_next = 0
        """The next N GraphQL requests get the connection dropped mid-answer (the client
        sees a network error); recorded with status 0."""
        # bookkeeping
        self._requests: list[RecordedRequest] = []
        self._tag_mutations: list[TagMutation] = []
        self.downloads: list[str] = []
        self._ids = dict(_FIRST_IDS)
        self._order_number = 0

    # ------------------------------------------------------------------ clock

    @property
    def now(self) -> datetime:
        """The shop's current time (aware UTC, whole seconds)."""
        if self._clock is not None:
            return utc_seconds(self._clock())
        with self.lock:
            return self._now

    @now.setter
    def now(self, value: datetime) -> None:
        self.set_now(value)

    def set_now(self, value: datetime) -> None:
        if self._clock is not None:
            raise RuntimeError("this fake runs on a callable clock")
        with self.lock:
            self._now = utc_seconds(value)

    def advance(
        self, seconds: float = 0, *, minutes: float = 0, hours: float = 0, days: float = 0
    ) -> datetime:
        """Move the manual clock forward; returns the new ``now``."""
        delta = timedelta(seconds=seconds, minutes=minutes, hours=hours, days=days)
        if delta < timedelta(0):
            raise ValueError("the clock only moves forward")
        with self.lock:
            self.set_now(self._now + delta)
            return self._now

    def timezone(self) -> ZoneInfo:
        """The shop's ``ianaTimezone`` (UTC when this machine has no tz database)."""
        try:
            return ZoneInfo(self.shop.iana_timezone)
        except ZoneInfoNotFoundError:
            return ZoneInfo("UTC")

    # ------------------------------------------------------------------ ids

    def next_id(self, kind: str) -> int:
        value = self._ids[kind]
        self._ids[kind] = value + _ID_STEP.get(kind, 1) * 1_000 + 17
        return value

    @staticmethod
    def _record_id(value: object, kind: str) -> int:
        if isinstance(value, int):
            return value
        if isinstance(value, str):
            parsed = parse_gid(value)
            if parsed is None or parsed[0] != kind:
                raise ValueError(f"not a {kind} gid: {value!r}")
            return parsed[1]
        record_id = getattr(value, "id", None)
        if not isinstance(record_id, int):
            raise TypeError(f"expected a {kind}, its id or its gid, got {value!r}")
        return record_id

    # ------------------------------------------------------------------ scopes

    @property
    def scopes(self) -> list[str]:
        with self.lock:
            return list(self._scopes)

    def has_scope(self, handle: str) -> bool:
        with self.lock:
            return handle in self._scopes

    def drop_scope(self, handle: str) -> None:
        """E.g. ``drop_scope("read_all_orders")``: orders older than 60 days disappear."""
        with self.lock:
            if handle in self._scopes:
                self._scopes.remove(handle)

    def grant_scope(self, handle: str) -> None:
        with self.lock:
            if handle not in self._scopes:
                self._scopes.append(handle)

    # ------------------------------------------------------------------ bucket

    @property
    def maximum_available(self) -> float:
        with self.lock:
            return self.bucket.maximum

    @maximum_available.setter
    def maximum_available(self, value: float) -> None:
        with self.lock:
            self.bucket.configure(maximum=value)

    @property
    def restore_rate(self) -> float:
        with self.lock:
            return self.bucket.restore_rate

    @restore_rate.setter
    def restore_rate(self, value: float) -> None:
        with self.lock:
            self.bucket.configure(restore_rate=value)

    @property
    def currently_available(self) -> float:
        with self.lock:
            return self.bucket.available()

    def set_currently_available(self, points: float) -> None:
        """Drain (or fill) the bucket to ``points``, e.g. to provoke THROTTLED."""
        with self.lock:
            self.bucket.set_available(points)

    # ------------------------------------------------------------------ request log

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every GraphQL request so far (a copy), oldest first."""
        with self.lock:
            return list(self._requests)

    def clear_requests(self) -> None:
        """Forget the request log, the downloads and the tag mutations."""
        with self.lock:
            self._requests.clear()
            self._tag_mutations.clear()
            self.downloads.clear()

    def record(self, entry: RecordedRequest) -> None:
        with self.lock:
            self._requests.append(entry)

    @property
    def tag_mutations(self) -> list[TagMutation]:
        """Every ``tagsAdd``/``tagsRemove`` executed so far (a copy), oldest first,
        including refused ones (``error`` set)."""
        with self.lock:
            return list(self._tag_mutations)

    def record_tag_mutation(self, entry: TagMutation) -> None:
        with self.lock:
            self._tag_mutations.append(entry)

    def take_fault(self, name: str) -> bool:
        """Consume one unit of the ``server_errors_next``-style counter ``name``."""
        with self.lock:
            remaining = int(getattr(self, name))
            if remaining <= 0:
                return False
            setattr(self, name, remaining - 1)
            return True

    # ------------------------------------------------------------------ lookups

    @property
    def orders(self) -> list[Order]:
        with self.lock:
            return sorted(self.store.orders.values(), key=lambda o: o.id)

    @property
    def customers(self) -> list[Customer]:
        with self.lock:
            return sorted(self.store.customers.values(), key=lambda c: c.id)

    @property
    def locations(self) -> list[Location]:
        with self.lock:
            return sorted(self.store.locations.values(), key=lambda loc: loc.id)

    @property
    def bulk_operations(self) -> list[BulkOperation]:
        with self.lock:
            return sorted(self.store.bulk_operations.values(), key=lambda op: op.id)

    def get_order(self, order: Order | int | str) -> Order:
        with self.lock:
            return self.store.orders[self._record_id(order, "Order")]

    def get_customer(self, customer: Customer | int | str) -> Customer:
        with self.lock:
            return self.store.customers[self._record_id(customer, "Customer")]

    def get_location(self, location: Location | int | str) -> Location:
        with self.lock:
            return self.store.locations[self._record_id(location, "Location")]

    def order_visible(self, order: Order) -> bool:
        """Without ``read_all_orders`` only orders created in the last 60 days exist."""
        if "read_all_orders" in self._scopes:
            return True
        return order.created_at >= self.now - ORDER_HISTORY_WITHOUT_READ_ALL_ORDERS

    # ------------------------------------------------------------------ locations

    def add_location(
        self,
        name: str = "Downtown",
        *,
        address1: str | None = "100 Market St",
        address2: str | None = None,
        city: str | None = "San Francisco",
        province: str | None = "California",
        province_code: str | None = "CA",
        zip: str | None = "94105",
        country: str | None = "United States",
        country_code: str | None = "US",
        phone: str | None = None,
        is_active: bool = True,
        legacy: bool = False,
        fulfills_online_orders: bool = True,
        created_at: datetime | None = None,
    ) -> Location:
        with self.lock:
            stamp = utc_seconds(created_at) if created_at else self.now
            location = Location(
                id=self.next_id("Location"),
                name=name,
                address=Address(
                    address1=address1,
                    address2=address2,
                    city=city,
                    province=province,
                    province_code=province_code,
                    zip=zip,
                    country=country,
                    country_code=country_code,
                    phone=phone,
                ),
                is_active=is_active,
                legacy=legacy,
                fulfills_online_orders=fulfills_online_orders,
                created_at=stamp,
                updated_at=stamp,
                deactivated_at=None if is_active else stamp,
            )
            self.store.locations[location.id] = location
            return location

    def deactivate_location(self, location: Location | int | str) -> Location:
        with self.lock:
            record = self.get_location(location)
            record.is_active = False
            record.deactivated_at = record.updated_at = self.now
            return record

    # ------------------------------------------------------------------ customers

    def add_customer(
        self,
        first_name: str | None = "Ada",
        last_name: str | None = "Lovelace",
        *,
        email: str | None = AUTO,
        phone: str | None = None,
        email_state: str = "NOT_SUBSCRIBED",
        email_opt_in_level: str | None = AUTO,
        sms_state: str = "NOT_SUBSCRIBED",
        sms_opt_in_level: str | None = AUTO,
        sms_collected_from: str | None = AUTO,
        state: str = "DISABLED",
        tags: Sequence[str] = (),
        note: str | None = None,
        verified_email: bool = True,
        address: Address | None = None,
        created_at: datetime | None = None,
        updated_at: datetime | None = None,
    ) -> Customer:
        """A customer. ``email="auto"``: ``first.last.<n>@example.com``; ``None``: no email.

        ``phone`` must be E.164 (``+14155550123``). Consent: ``email_state`` is a
        ``CustomerEmailAddressMarketingState``, ``sms_state`` a ``CustomerSmsMarketingState``;
        the opt-in level, ``marketingUpdatedAt`` and ``marketingCollectedFrom`` are derived
        from the state unless given.
        """
        _check(email_state, EMAIL_STATES, "email_state")
        _check(sms_state, SMS_STATES, "sms_state")
        _check(state, CUSTOMER_STATES, "state")
        if email_opt_in_level != AUTO:
            _check(email_opt_in_level, OPT_IN_LEVELS, "email_opt_in_level")
        if sms_opt_in_level != AUTO:
            _check(sms_opt_in_level, OPT_IN_LEVELS, "sms_opt_in_level")
        if sms_collected_from != AUTO:
            _check(sms_collected_from, COLLECTED_FROM, "sms_collected_from")
        with self.lock:
            created = utc_seconds(created_at) if created_at else self.now
            updated = utc_seconds(updated_at) if updated_at else created
            customer_id = self.next_id("Customer")
            if email == AUTO:
                local = ".".join(p.lower() for p in (first_name, last_name) if p) or "customer"
                email = f"{local}.{customer_id % 100_000}@example.com"
            customer = Customer(
                id=customer_id,
                first_name=first_name,
                last_name=last_name,
                email=email,
                phone=phone,
                created_at=created,
                updated_at=max(created, updated),
                state=state,
                tags=list(tags),
                note=note,
                verified_email=verified_email,
                address=address,
            )
            self._set_email_consent(customer, email_state, email_opt_in_level, created)
            self._set_sms_consent(
                customer, sms_state, sms_opt_in_level, sms_collected_from, created
            )
            self.store.customers[customer.id] = customer
            return customer

    @staticmethod
    def _set_email_consent(
        customer: Customer, state: str, level: str | None, stamp: datetime
    ) -> None:
        customer.email_state = state
        customer.email_opt_in_level = _opt_in_for(state) if level == AUTO else level
        customer.email_updated_at = None if state == "NOT_SUBSCRIBED" else stamp

    @staticmethod
    def _set_sms_consent(
        customer: Customer,
        state: str,
        level: str | None,
        collected_from: str | None,
        stamp: datetime,
    ) -> None:
        customer.sms_state = state
        customer.sms_opt_in_level = _opt_in_for(state) if level == AUTO else level
        customer.sms_updated_at = None if state == "NOT_SUBSCRIBED" else stamp
        if collected_from == AUTO:
            collected_from = None if state == "NOT_SUBSCRIBED" else "SHOPIFY"
        customer.sms_collected_from = collected_from

    _CUSTOMER_FIELDS = frozenset(
        {
            "first_name",
            "last_name",
            "email",
            "phone",
            "state",
            "tags",
            "note",
            "verified_email",
            "address",
            "locale",
            "tax_exempt",
        }
    )

    def redact_customer(self, customer: Customer | int | str) -> Customer:
        """Erase the customer's personal data as a ``customers/redact`` request does: names,
        e-mail and phone gone, both marketing states ``REDACTED`` (read-only, "the
        customer's personal data is erased": CustomerEmailMarketingState), ``updatedAt``
        bumped to ``now``."""
        with self.lock:
            record = self.get_customer(customer)
            record.first_name = record.last_name = record.email = record.phone = None
            record.note = None
            record.address = None
            self._set_email_consent(record, "REDACTED", None, self.now)
            self._set_sms_consent(record, "REDACTED", None, None, self.now)
            record.updated_at = max(record.updated_at, self.now)
            return record

    def update_customer(self, customer: Customer | int | str, **changes: Any) -> Customer:
        """Change fields and bump ``updatedAt`` to ``now``.

        Fields: first_name, last_name, email, phone, state, tags, note, verified_email,
        address, locale, tax_exempt, and consent: email_state (+ email_opt_in_level),
        sms_state (+ sms_opt_in_level, sms_collected_from); a consent change also sets
        ``marketingUpdatedAt`` to ``now``.
        """
        consent = {
            "email_state",
            "email_opt_in_level",
            "sms_state",
            "sms_opt_in_level",
            "sms_collected_from",
        }
        unknown = set(changes) - self._CUSTOMER_FIELDS - consent
        if unknown:
            raise TypeError(f"update_customer: unknown fields {sorted(unknown)}")
        with self.lock:
            record = self.get_customer(customer)
            now = self.now
            for name, value in changes.items():
                if name in self._CUSTOMER_FIELDS:
                    if name == "state":
                        _check(value, CUSTOMER_STATES, "state")
                    setattr(record, name, list(value) if name == "tags" else value)
            if "email_state" in changes or "email_opt_in_level" in changes:
                state = changes.get("email_state", record.email_state)
                _check(state, EMAIL_STATES, "email_state")
                self._set_email_consent(record, state, changes.get("email_opt_in_level", AUTO), now)
            if {"sms_state", "sms_opt_in_level", "sms_collected_from"} & set(changes):
                state = changes.get("sms_state", record.sms_state)
                _check(state, SMS_STATES, "sms_state")
                self._set_sms_consent(
                    record,
                    state,
                    changes.get("sms_opt_in_level", AUTO),
                    changes.get("sms_collected_from", AUTO),
                    now,
                )
            record.updated_at = max(record.updated_at, now)
            return record

    def delete_customer(self, customer: Customer | int | str) -> None:
        """Gone from every query (as after ``customers/delete``); orders keep ``customer: null``."""
        with self.lock:
            del self.store.customers[self._record_id(customer, "Customer")]

    # ------------------------------------------------------------------ orders

    def add_order(
        self,
        *,
        customer: Customer | int | str | None = None,
        total: Decimal | str | int | float = "12.50",
        subtotal: Decimal | str | int | float | None = None,
        source_name: str | None = "web",
        retail_location: Location | int | str | None = None,
        line_items: Sequence[Sequence[Any]] = (("SKU-1", 1),),
        test: bool = False,
        processed_at: datetime | None = None,
        created_at: datetime | None = None,
        email: str | None = AUTO,
        phone: str | None = AUTO,
        currency: str | None = None,
        source_identifier: str | None = None,
        financial_status: str = "PAID",
        fulfillment_status: str | None = None,
        tags: Sequence[str] = (),
        note: str | None = None,
    ) -> Order:
        """An order, ``createdAt``/``updatedAt`` = ``now`` (``processedAt`` defaults to it).

        ``line_items``: ``(sku, quantity)``, ``(sku, quantity, unit_price)`` or
        ``(sku, quantity, unit_price, name)``; without a price the subtotal is spread over the
        items. ``email``/``phone`` ``"auto"``: the customer's (None for a guest). Placing an
        order bumps the customer's ``numberOfOrders``, ``amountSpent`` and ``updatedAt``.
        POS orders (``source_name="pos"``) are closed at ``processedAt``.
        """
        with self.lock:
            now = self.now
            created = utc_seconds(created_at) if created_at else now
            processed = utc_seconds(processed_at) if processed_at else created
            return self.insert_order(
                customer_id=None if customer is None else self._record_id(customer, "Customer"),
                total=money(total),
                subtotal=money(subtotal if subtotal is not None else total),
                source_name=source_name,
                retail_location_id=(
                    None
                    if retail_location is None
                    else self._record_id(retail_location, "Location")
                ),
                line_items=line_items,
                test=test,
                created=created,
                processed=processed,
                updated=max(created, now),
                email=email,
                phone=phone,
                currency=currency or self.shop.currency_code,
                source_identifier=source_identifier,
                financial_status=financial_status,
                fulfillment_status=fulfillment_status,
                tags=list(tags),
                note=note,
                bump_customer_at=now,
            )

    def insert_order(
        self,
        *,
        customer_id: int | None,
        total: Decimal,
        subtotal: Decimal,
        source_name: str | None,
        retail_location_id: int | None,
        line_items: Sequence[Sequence[Any]],
        test: bool,
        created: datetime,
        processed: datetime,
        updated: datetime,
        email: str | None,
        phone: str | None,
        currency: str,
        source_identifier: str | None,
        financial_status: str,
        fulfillment_status: str | None,
        tags: list[str],
        note: str | None,
        bump_customer_at: datetime | None,
    ) -> Order:
        customer = None
        if customer_id is not None:
            customer = self.store.customers.get(customer_id)
            if customer is None:
                raise KeyError(f"no customer {customer_id}")
        if retail_location_id is not None and retail_location_id not in self.store.locations:
            raise KeyError(f"no location {retail_location_id}")
        if email == AUTO:
            email = customer.email if customer else None
        if phone == AUTO:
            phone = customer.phone if customer else None
        self._order_number += 1
        order_id = self.next_id("Order")
        is_pos = source_name == "pos"
        order = Order(
            id=order_id,
            number=self._order_number,
            name=f"#{1000 + self._order_number}",
            created_at=created,
            updated_at=max(updated, created),
            processed_at=processed,
            total=total,
            subtotal=subtotal,
            currency=currency,
            customer_id=customer_id,
            email=email,
            phone=phone,
            source_name=source_name,
            source_identifier=source_identifier
            or (
                f"{retail_location_id % 97 if retail_location_id else 0}-{self._order_number}"
                if is_pos
                else None
            ),
            retail_location_id=retail_location_id,
            test=test,
            confirmation_number=secrets.token_hex(5).upper()[:9],
            closed_at=processed if is_pos else None,
            financial_status=financial_status,
            fulfillment_status=fulfillment_status or ("FULFILLED" if is_pos else "UNFULFILLED"),
            tags=tags,
            note=note,
        )
        order.line_items = self._make_line_items(subtotal, line_items)
        for item in order.line_items:
            self.store.line_items[item.id] = (item, order.id)
        self.store.orders[order.id] = order
        if customer is not None:
            customer.number_of_orders += 1
            if not test:
                customer.amount_spent += total
            if bump_customer_at is not None:
                customer.updated_at = max(customer.updated_at, bump_customer_at)
        return order

    def _make_line_items(self, subtotal: Decimal, specs: Sequence[Sequence[Any]]) -> list[LineItem]:
        """Items without a price share what the priced ones leave of the subtotal."""
        if not specs:
            return []
        quantities = [int(spec[1]) if len(spec) > 1 else 1 for spec in specs]
        priced = [money(s[2]) if len(s) > 2 and s[2] is not None else None for s in specs]
        left = subtotal - sum(
            (p * q for p, q in zip(priced, quantities, strict=True) if p is not None),
            Decimal("0.00"),
        )
        unpriced = sum(q for p, q in zip(priced, quantities, strict=True) if p is None)
        spread = money(max(left, Decimal("0.00")) / unpriced) if unpriced else Decimal("0.00")
        items = []
        for spec, quantity, price in zip(specs, quantities, priced, strict=True):
            sku = None if spec[0] is None else str(spec[0])
            name = str(spec[3]) if len(spec) > 3 else (sku or "Custom sale")
            items.append(
                LineItem(
                    id=self.next_id("LineItem"),
                    sku=sku,
                    name=name,
                    quantity=quantity,
                    unit_price=spread if price is None else price,
                    current_quantity=quantity,
                )
            )
        return items

    def add_refund(
        self,
        order: Order | int | str,
        amount: Decimal | str | int | float,
        *,
        created_at: datetime | None = None,
        note: str | None = None,
    ) -> Refund:
        """Refund ``amount``: ``createdAt`` = ``created_at`` or ``now``; the order's
        ``updatedAt`` = ``now``, ``totalRefundedSet`` up, ``currentTotalPriceSet`` and
        ``currentSubtotalPriceSet`` down, status PARTIALLY_REFUNDED/REFUNDED. The customer's
        ``amountSpent`` goes down (their ``updatedAt`` is left alone)."""
        with self.lock:
            record = self.get_order(order)
            value = money(amount)
            if value <= 0:
                raise ValueError("refund amount must be positive")
            if value > record.current_total:
                raise ValueError(
                    f"refund {value} exceeds the refundable {record.current_total} "
                    f"of order {record.name}"
                )
            now = self.now
            stamp = utc_seconds(created_at) if created_at else now
            refund = Refund(
                id=self.next_id("Refund"),
                order_id=record.id,
                amount=value,
                created_at=stamp,
                updated_at=stamp,
                note=note,
            )
            record.refunds.append(refund)
            self.store.refunds[refund.id] = refund
            record.financial_status = (
                "REFUNDED" if record.current_total == 0 else "PARTIALLY_REFUNDED"
            )
            record.updated_at = max(record.updated_at, now)
            customer = self.store.customers.get(record.customer_id or -1)
            if customer is not None and not record.test:
                customer.amount_spent = max(Decimal("0.00"), customer.amount_spent - value)
            return refund

    def cancel_order(
        self, order: Order | int | str, *, reason: str = "CUSTOMER", refund: bool = False
    ) -> Order:
        """``cancelledAt``/``closedAt``/``updatedAt`` = ``now``; ``refund=True`` also refunds
        what is left (``currentTotalPriceSet`` → 0)."""
        _check(reason, CANCEL_REASONS, "reason")
        with self.lock:
            record = self.get_order(order)
            if record.cancelled_at is not None:
                raise ValueError(f"order {record.name} is already cancelled")
            if refund and record.current_total > 0:
                self.add_refund(record, record.current_total, note="Order canceled")
            now = self.now
            record.cancelled_at = now
            record.cancel_reason = reason
            record.closed_at = record.closed_at or now
            record.updated_at = max(record.updated_at, now)
            if not refund and record.financial_status == "PENDING":
                record.financial_status = "VOIDED"
            for item in record.line_items:
                item.current_quantity = 0
            return record

    def touch_order(self, order: Order | int | str, *, tags: Sequence[str] | None = None) -> Order:
        """An edit that changes nothing a loyalty sync cares about (tags): ``updatedAt`` = now."""
        with self.lock:
            record = self.get_order(order)
            if tags is not None:
                record.tags = list(tags)
            record.updated_at = max(record.updated_at, self.now)
            return record

    # ------------------------------------------------------------------ bulk faults

    def fail_next_bulk_operation(
        self, error_code: str = "INTERNAL_SERVER_ERROR", *, partial_lines: int = 0
    ) -> None:
        """The next ``bulkOperationRunQuery`` ends FAILED with ``error_code``
        (INTERNAL_SERVER_ERROR, TIMEOUT or ACCESS_DENIED) instead of COMPLETED; with
        ``partial_lines > 0`` its ``partialDataUrl`` serves the first that many lines."""
        _check(error_code, BULK_ERROR_CODES, "error_code")
        with self.lock:
            self._bulk_faults.append((error_code, max(0, partial_lines)))

    def take_bulk_fault(self) -> tuple[str, int] | None:
        with self.lock:
            return self._bulk_faults.pop(0) if self._bulk_faults else None

    # ------------------------------------------------------------------ generation

    def generate(
        self,
        orders: int = 1000,
        customers: int | None = None,
        *,
        seed: int = 0,
        days: int = 365,
        locations: int = 4,
    ) -> GenerateSummary:
        """Realistic data in bulk; see :mod:`tests.shopify_fake.generate`."""
        from tests.shopify_fake.generate import generate  # noqa: PLC0415 - cycle

        with self.lock:
            return generate(
                self,
                orders=orders,
                customers=customers,
                seed=seed,
                days=days,
                locations=locations,
            )


@dataclass(frozen=True)
class GenerateSummary:
    locations: int
    customers: int
    orders: int
    line_items: int
    refunds: int
    cancelled: int
    pos_orders: int
    guest_orders: int
    test_orders: int
    seconds: float
