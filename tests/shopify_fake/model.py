"""Records the fake stores, and how Shopify serialises their scalars.

Plain mutable dataclasses: :class:`~tests.shopify_fake.fake.ShopifyFake` owns them and
mutates them under its lock. Timestamps are timezone-aware UTC datetimes truncated to
whole seconds (Shopify's ``DateTime`` has second precision). Money is ``Decimal``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

GID_PREFIX = "gid://shopify/"


def gid(kind: str, number: int) -> str:
    """``gid("Order", 12)`` → ``"gid://shopify/Order/12"``."""
    return f"{GID_PREFIX}{kind}/{number}"


def parse_gid(value: str) -> tuple[str, int] | None:
    """``"gid://shopify/Order/12"`` → ``("Order", 12)``; None when it is not a gid."""
    if not value.startswith(GID_PREFIX):
        return None
    kind, _, number = value[len(GID_PREFIX) :].partition("/")
    number = number.split("?", 1)[0]
    if not kind or not number.isdigit():
        return None
    return kind, int(number)


def utc_seconds(value: datetime) -> datetime:
    """Aware UTC, whole seconds. Naive datetimes are taken to be UTC."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).replace(microsecond=0)


def iso(value: datetime | None) -> str | None:
    """Shopify ``DateTime``: ``2026-09-01T12:34:56Z``."""
    if value is None:
        return None
    return utc_seconds(value).strftime("%Y-%m-%dT%H:%M:%SZ")


def decimal_string(value: Decimal) -> str:
    """Shopify ``Decimal``/``Money``: ``"12.5"``, ``"2000.0"``, ``"0.0"``, ``"598.94"``.

    Like Ruby's ``BigDecimal#to_s('F')``: trailing zeros dropped, at least one decimal.
    """
    text = format(value.normalize(), "f")
    if "." not in text:
        text += ".0"
    return text


def money(value: Decimal | str | int | float) -> Decimal:
    """Any amount → ``Decimal`` with two places."""
    return Decimal(str(value)).quantize(Decimal("0.01"))


@dataclass
class Address:
    address1: str | None = None
    address2: str | None = None
    city: str | None = None
    province: str | None = None
    province_code: str | None = None
    zip: str | None = None
    country: str | None = "United States"
    country_code: str | None = "US"
    phone: str | None = None
    company: str | None = None
    latitude: float | None = None
    longitude: float | None = None

    def formatted(self) -> list[str]:
        """``LocationAddress.formatted``: street lines, "city PROV zip", country."""
        lines = [line for line in (self.address1, self.address2) if line]
        locality = " ".join(p for p in (self.city, self.province_code, self.zip) if p)
        if locality:
            lines.append(locality)
        if self.country:
            lines.append(self.country)
        return lines


@dataclass
class Shop:
    id: int
    name: str
    email: str
    contact_email: str
    myshopify_domain: str
    primary_domain: str
    iana_timezone: str
    timezone_abbreviation: str
    currency_code: str
    billing_address: Address
    plan_display_name: str = "Basic"
    shopify_plus: bool = False
    partner_development: bool = False
    taxes_included: bool = False
    created_at: datetime = field(default_factory=lambda: datetime(2021, 3, 1, tzinfo=UTC))
    updated_at: datetime = field(default_factory=lambda: datetime(2026, 1, 5, tzinfo=UTC))


@dataclass
class Location:
    id: int
    name: str
    address: Address
    is_active: bool = True
    legacy: bool = False
    fulfills_online_orders: bool = True
    created_at: datetime = field(default_factory=lambda: datetime(2022, 1, 1, tzinfo=UTC))
    updated_at: datetime = field(default_factory=lambda: datetime(2022, 1, 1, tzinfo=UTC))
    deactivated_at: datetime | None = None


@dataclass
class Customer:
    id: int
    first_name: str | None
    last_name: str | None
    email: str | None
    phone: str | None
    created_at: datetime
    updated_at: datetime
    email_state: str = "NOT_SUBSCRIBED"
    email_opt_in_level: str | None = None
    email_updated_at: datetime | None = None
    sms_state: str = "NOT_SUBSCRIBED"
    sms_opt_in_level: str | None = None
    sms_updated_at: datetime | None = None
    sms_collected_from: str | None = None
    state: str = "DISABLED"
    tags: list[str] = field(default_factory=list)
    note: str | None = None
    locale: str = "en"
    verified_email: bool = True
    tax_exempt: bool = False
    address: Address | None = None
    number_of_orders: int = 0
    amount_spent: Decimal = Decimal("0.00")

    @property
    def display_name(self) -> str:
        name = " ".join(p for p in (self.first_name, self.last_name) if p)
        return name or self.email or self.phone or ""


@dataclass
class LineItem:
    id: int
    sku: str | None
    name: str
    quantity: int
    unit_price: Decimal
    current_quantity: int


@dataclass
class Refund:
    id: int
    order_id: int
    amount: Decimal
    created_at: datetime
    updated_at: datetime
    note: str | None = None


@dataclass
class Order:
    id: int
    number: int
    name: str
    created_at: datetime
    updated_at: datetime
    processed_at: datetime
    total: Decimal
    subtotal: Decimal
    currency: str
    customer_id: int | None
    email: str | None
    phone: str | None
    source_name: str | None
    source_identifier: str | None
    retail_location_id: int | None
    test: bool = False
    confirmation_number: str | None = None
    cancelled_at: datetime | None = None
    cancel_reason: str | None = None
    closed_at: datetime | None = None
    financial_status: str = "PAID"
    fulfillment_status: str = "FULFILLED"
    note: str | None = None
    tags: list[str] = field(default_factory=list)
    line_items: list[LineItem] = field(default_factory=list)
    refunds: list[Refund] = field(default_factory=list)

    @property
    def total_refunded(self) -> Decimal:
        return sum((r.amount for r in self.refunds), Decimal("0.00"))

    @property
    def current_total(self) -> Decimal:
        return max(self.total - self.total_refunded, Decimal("0.00"))

    @property
    def current_subtotal(self) -> Decimal:
        return max(self.subtotal - self.total_refunded, Decimal("0.00"))

    @property
    def items_quantity(self) -> int:
        return sum(item.quantity for item in self.line_items)


BULK_TERMINAL = frozenset({"COMPLETED", "FAILED", "CANCELED", "EXPIRED"})


@dataclass
class BulkOperation:
    id: int
    query: str
    group_objects: bool
    created_at: datetime
    created_monotonic: float
    status: str = "CREATED"
    polls: int = 0
    error_code: str | None = None
    completed_at: datetime | None = None
    object_count: int = 0
    root_object_count: int = 0
    jsonl: bytes | None = None
    partial_jsonl: bytes | None = None
    fail_with: str | None = None
    fail_partial_lines: int = 0
    cancel_requested: bool = False

    @property
    def gid(self) -> str:
        return gid("BulkOperation", self.id)

    @property
    def in_progress(self) -> bool:
        return self.status in {"CREATED", "RUNNING"}
