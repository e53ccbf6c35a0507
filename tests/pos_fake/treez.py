"""``TreezPos``: the Treez (SellTreez) API v2.0, one or more dispensaries.

Real paths and shapes from domain.md §1.2 and ``treez_customer.sample.json`` /
``treez_ticket.sample.json``: ``/v2.0/dispensary/{dispensary}/…``, a token from
``config/api/gettokens`` sent raw in ``authorization`` plus a ``client_id`` header, path-embedded
``lastUpdated/after/{ts}/page/{n}/pagesize/{size}`` lists, **newest first**, ``{"data": […]}``
for customers and ``{"ticketList": […]}`` for tickets, both ``[]`` past the last page. Ids are
only unique per dispensary (two dispensaries reuse ``"100001"`` and ``"T-0001"``). A ticket's
``type`` is its sales channel (POS, DELIVERY, PICKUP, EXPRESS); a refund is the ticket whose
``original_ticket_id`` is set. ``order_status`` moves through in-progress states to COMPLETED
or CANCELED.
"""

from __future__ import annotations

import random
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.pos_fake.common import Call, HttpError, PosFake, copy_json, copy_record, money
from tests.pos_fake.data import PHONE_STYLES, People, Person

BASE = "/v2.0/dispensary/{dispensary}"
TAX_RATE = 0.205
CHANNELS = ("POS", "DELIVERY", "PICKUP", "EXPRESS")
"""Ticket ``type`` values seen in public code: the sales channel, never a refund marker."""
IN_PROGRESS = (
    "VERIFICATION_PENDING",
    "AWAITING_PROCESSING",
    "IN_PROCESS",
    "PACKED_READY",
    "OUT_FOR_DELIVERY",
)
ORDER_STATUSES = (*IN_PROGRESS, "COMPLETED", "CANCELED")
CATALOGUE = (
    ("P1", "Brand", "CARTRIDGE", 40.0),
    ("P2", "Brand", "FLOWER", 35.0),
    ("P3", "Kiva", "EDIBLE", 22.0),
    ("P4", "Lowell", "PREROLL", 12.0),
    ("P5", "Papa & Barkley", "TINCTURE", 48.0),
)


def _fail(reason: str) -> dict[str, str]:
    return {"resultCode": "FAIL", "resultReason": reason}


def _offset_without_colon(value: datetime) -> str:
    """``2026-01-11T13:56:05.000-0800``: milliseconds and an offset WITHOUT a colon, as in
    the token answer's ``expires_at``."""
    millis = f"{value.microsecond // 1000:03d}"
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + millis + value.strftime("%z")


@dataclass
class Dispensary:
    """One dispensary's records (ids unique only here)."""

    name: str
    customers: dict[str, dict[str, Any]] = field(default_factory=dict)
    tickets: dict[str, dict[str, Any]] = field(default_factory=dict)
    customer_updated: dict[str, datetime] = field(default_factory=dict)
    ticket_updated: dict[str, datetime] = field(default_factory=dict)
    next_customer: int = 100_001
    next_ticket: int = 1


@dataclass
class TreezToken:
    value: str
    dispensary: str
    expires_at: datetime
    kind: Literal["access", "refresh"]


class TreezPos(PosFake):
    """Treez v2.0. See README.md § TreezPos."""

    def __init__(
        self,
        *,
        dispensaries: Sequence[str] = ("partners-oakland",),
        client_id: str = "treez-client-id",
        api_key: str = "treez-api-key",
        token_ttl: float = 7200,
        timezone: str = "America/Los_Angeles",
        state: str = "CA",
        max_page_size: int = 50,
        refuse_with_200: bool = False,
        invalid_token_with_200: bool = False,
        refund_totals: Literal["negative", "positive"] = "negative",
        now: datetime | None = None,
        seed: int = 0,
    ) -> None:
        super().__init__(now=now)
        if not dispensaries:
            raise ValueError("at least one dispensary")
        if refund_totals not in ("negative", "positive"):
            raise ValueError(f"refund_totals: {refund_totals!r}")
        self.refuse_with_200 = refuse_with_200
        """A refused token request answers 200 ``{"resultCode": "FAIL", …}`` (else 401)."""
        self.invalid_token_with_200 = invalid_token_with_200
        """A data request with a missing/wrong/expired token answers 200 ``{"resultCode":
        "FAIL", …}`` — no ``data``/``ticketList`` key — (else 401)."""
        self.refund_totals = refund_totals
        self.client_id = client_id
        self.api_key = api_key
        self.token_ttl = token_ttl
        self.tz = ZoneInfo(timezone)
        self.max_page_size = max_page_size
        self.rng = random.Random(seed)
        self.people = People(self.rng, state)
        self.dispensaries: dict[str, Dispensary] = {d: Dispensary(d) for d in dispensaries}
        self.default_dispensary = next(iter(self.dispensaries))
        self.tokens: dict[str, TreezToken] = {}
        self.token_requests = 0
        """POSTs to ``config/api/gettokens`` and ``config/api/refreshtoken`` (any outcome)."""

    def _d(self, dispensary: str | None) -> Dispensary:
        return self.dispensaries[dispensary or self.default_dispensary]

    def stamp(self, value: datetime) -> str:
        """Treez's timestamp format: store-local with milliseconds and offset,
        ``2026-04-30T14:12:30.000-07:00``."""
        return value.astimezone(self.tz).isoformat(timespec="milliseconds")

    def path(self, dispensary: str | None = None) -> str:
        """``/v2.0/dispensary/<dispensary>`` (prefix of every endpoint)."""
        return BASE.format(dispensary=dispensary or self.default_dispensary)

    # -- customers ---------------------------------------------------------------------------
    def add_customer(
        self,
        *,
        dispensary: str | None = None,
        last_update: datetime | None = None,
        person: Person | None = None,
        **fields: Any,
    ) -> dict[str, Any]:
        """Add a customer; ``fields`` (snake_case, as served) override generated ones.
        ``last_update`` (default now) is what the ``lastUpdated/after`` filter sees."""
        with self.lock:
            d = self._d(dispensary)
            now = self.now().replace(microsecond=0)
            when = (last_update or now).replace(microsecond=0)
            customer_id = str(fields.pop("customer_id", d.next_customer))
            if customer_id.isdigit():
                d.next_customer = max(d.next_customer, int(customer_id) + 1)
            person = person or self.people.next()
            signup = min(when, now) - timedelta(days=self.rng.randint(1, 900))
            record: dict[str, Any] = {
                "customer_id": customer_id,
                "status": "ACTIVE",
                "verification_status": "VERIFIED",
                "verification_reasons": [],
                "first_name": person.first,
                "middle_name": None,
                "nickname": None,
                "last_name": person.last,
                "birthday": f"{self.rng.randint(1955, 2003)}-{self.rng.randint(1, 12):02d}-15",
                "drivers_license": f"D{self.rng.randint(0, 9_999_999):07d}",
                "drivers_license_expiration": f"{self.rng.randint(2027, 2031)}-07-15",
                "state_medical_id": None,
                "email": person.email,
                "phone": person.phone("digits"),
                "notes": None,
                "permit_expiration": None,
                "is_caregiver": False,
                "caregiver_details": [],
                "rewards_balance": 0,
                "rewards_type": "POINTS",
                "gender": self.rng.choice(("F", "M", "U")),
                "signup_date": self.stamp(signup),
                "last_visit_date": None,
                "last_update": self.stamp(when),
                "opt_out": "false",
                "referral_source": None,
                "banned": False,
                "warning_1": False,
                "warning_2": False,
                "addresses": [
                    {
                        "type": "HOME",
                        "street1": person.street,
                        "street2": None,
                        "city": person.city,
                        "state": person.state,
                        "zipcode": person.zip,
                        "primary": True,
                    }
                ],
                "merged_customer_ids": [],
                "merged_into_customer_id": None,
                "patient_type": "ADULT",
                "imageList": [],
                "customer_groups": [],
            }
            record.update(copy_json(fields))
            d.customers[customer_id] = record
            d.customer_updated[customer_id] = when
            return copy_record(record)

    def update_customer(
        self,
        customer_id: str,
        *,
        dispensary: str | None = None,
        last_update: datetime | None = None,
        **fields: Any,
    ) -> dict[str, Any]:
        """Change fields; ``last_update`` moves to ``last_update`` (default now)."""
        with self.lock:
            d = self._d(dispensary)
            record = d.customers[str(customer_id)]
            when = (last_update or self.now()).replace(microsecond=0)
            record.update(copy_json(fields))
            record["last_update"] = self.stamp(when)
            d.customer_updated[str(customer_id)] = when
            return copy_record(record)

    # -- tickets -----------------------------------------------------------------------------
    def add_ticket(
        self,
        customer_id: str | int | None,
        *,
        dispensary: str | None = None,
        items: Sequence[tuple[str, int, float]] | None = None,
        date_created: datetime | None = None,
        **fields: Any,
    ) -> dict[str, Any]:
        """A COMPLETED sale ticket (``type`` = the channel, default ``"POS"``; pass
        ``type="DELIVERY"`` etc.). ``customer_id`` is served as a NUMBER (None: walk-in).
        ``items``: ``(product_id, quantity, unit price)``; totals + 20.5 % tax."""
        with self.lock:
            d = self._d(dispensary)
            created = (date_created or self.now()).replace(microsecond=0)
            lines = list(items) if items is not None else [self._random_line()]
            item_records = [self._item(*line) for line in lines]
            subtotal = money(sum(i["price_total"] for i in item_records))
            record = self._ticket(d, customer_id, created, subtotal)
            record["items"] = item_records
            record.update(copy_json(fields))
            d.tickets[record["ticket_id"]] = record
            d.ticket_updated[record["ticket_id"]] = created + timedelta(minutes=1)
            if customer_id is not None and str(customer_id) in d.customers:
                customer = d.customers[str(customer_id)]
                visit = self.stamp(created)
                if (customer["last_visit_date"] or "") < visit:
                    customer["last_visit_date"] = visit
            return copy_record(record)

    def add_refund(
        self,
        original_ticket_id: str,
        amount: float | str,
        *,
        dispensary: str | None = None,
        reason: str = "Customer return",
        when: datetime | None = None,
    ) -> dict[str, Any]:
        """A refund ticket: ``original_ticket_id`` → the sale, ``refund_reason``, the SAME
        ``type`` (sales channel) as the sale, ``payment_status: "REFUNDED"``, and totals of
        ``amount`` — negative (``total == -amount``) unless ``refund_totals="positive"``.
        The original ticket is left unchanged."""
        with self.lock:
            d = self._d(dispensary)
            original = d.tickets[original_ticket_id]
            if original["original_ticket_id"] is not None:
                raise ValueError(f"{original_ticket_id} is itself a refund")
            refunded = sum(
                abs(t["total"])
                for t in d.tickets.values()
                if t["original_ticket_id"] == original_ticket_id
            )
            total = money(amount)
            if total <= 0 or total > money(original["total"] - refunded) + 0.001:
                raise ValueError(f"cannot refund {total} of {original['total']}")
            sign = -1 if self.refund_totals == "negative" else 1
            created = (when or self.now()).replace(microsecond=0)
            subtotal = sign * money(total / (1 + TAX_RATE))
            record = self._ticket(d, original["customer_id"], created, subtotal, total=sign * total)
            source = original["items"][0]
            item = dict(source, quantity=1, price_total=subtotal)
            record.update(
                type=original["type"],
                payment_status="REFUNDED",
                refund_reason=reason,
                original_ticket_id=original_ticket_id,
                items=[item],
                reward_points_earned=int(subtotal),
            )
            d.tickets[record["ticket_id"]] = record
            d.ticket_updated[record["ticket_id"]] = created + timedelta(minutes=1)
            return copy_record(record)

    def add_pending_ticket(
        self,
        customer_id: str | int | None,
        *,
        status: str = "AWAITING_PROCESSING",
        dispensary: str | None = None,
        items: Sequence[tuple[str, int, float]] | None = None,
        date_created: datetime | None = None,
        **fields: Any,
    ) -> dict[str, Any]:
        """A ticket not completed yet: ``order_status`` one of ``VERIFICATION_PENDING``,
        ``AWAITING_PROCESSING``, ``IN_PROCESS``, ``PACKED_READY``, ``OUT_FOR_DELIVERY``;
        ``date_closed: null``, ``payment_status: "UNPAID"`` (assumption). Move it on with
        :meth:`set_status`, finish it with :meth:`complete` or :meth:`cancel`."""
        if status not in IN_PROGRESS:
            raise ValueError(f"not an in-progress order_status: {status!r}")
        fields.setdefault("type", "DELIVERY")
        record = self.add_ticket(
            customer_id, dispensary=dispensary, items=items, date_created=date_created, **fields
        )
        with self.lock:
            d = self._d(dispensary)
            stored = d.tickets[record["ticket_id"]]
            stored.update(order_status=status, payment_status="UNPAID", date_closed=None)
            for payment in stored["payments"]:
                payment["payment_date"] = None
            return copy_record(stored)

    def set_status(
        self,
        ticket_id: str,
        status: str,
        *,
        dispensary: str | None = None,
        when: datetime | None = None,
    ) -> dict[str, Any]:
        """Set ``order_status`` (any of :data:`ORDER_STATUSES`) and bump
        ``last_updated_at`` to ``when`` (default now). ``COMPLETED`` also sets
        ``date_closed`` and ``payment_status: "PAID"`` (see :meth:`complete`)."""
        if status not in ORDER_STATUSES:
            raise ValueError(f"unknown order_status: {status!r}")
        with self.lock:
            d = self._d(dispensary)
            record = d.tickets[ticket_id]
            stamp = (when or self.now()).replace(microsecond=0)
            record.update(order_status=status, last_updated_at=self.stamp(stamp))
            if status == "COMPLETED":
                record.update(date_closed=self.stamp(stamp), payment_status="PAID")
                for payment in record["payments"]:
                    payment["payment_date"] = self.stamp(stamp)
            d.ticket_updated[ticket_id] = stamp
            return copy_record(record)

    def complete(
        self, ticket_id: str, *, dispensary: str | None = None, when: datetime | None = None
    ) -> dict[str, Any]:
        """Finish an in-progress ticket: ``order_status: "COMPLETED"``, ``date_closed`` and
        ``last_updated_at`` = ``when`` (default now), ``payment_status: "PAID"``."""
        return self.set_status(ticket_id, "COMPLETED", dispensary=dispensary, when=when)

    def cancel(self, ticket_id: str, *, dispensary: str | None = None) -> dict[str, Any]:
        """``order_status: "CANCELED"`` on the ticket; ``last_updated_at`` = now."""
        with self.lock:
            d = self._d(dispensary)
            record = d.tickets[ticket_id]
            now = self.now().replace(microsecond=0)
            record.update(order_status="CANCELED", last_updated_at=self.stamp(now))
            d.ticket_updated[ticket_id] = now
            return copy_record(record)

    def _random_line(self) -> tuple[str, int, float]:
        product, _, _, price = self.rng.choice(CATALOGUE)
        return product, self.rng.choice((1, 1, 2)), price

    def _item(self, product_id: str, quantity: int, price: float) -> dict[str, Any]:
        brand, kind = next(
            ((b, k) for p, b, k, _ in CATALOGUE if p == product_id), ("Brand", "MISC")
        )
        return {
            "product_id": product_id,
            "quantity": quantity,
            "price_total": money(quantity * price),
            "price_sell": money(price),
            "product_brand": brand,
            "product_type": kind,
        }

    def _ticket(
        self,
        d: Dispensary,
        customer_id: str | int | None,
        created: datetime,
        subtotal: float,
        *,
        total: float | None = None,
    ) -> dict[str, Any]:
        number = d.next_ticket
        d.next_ticket += 1
        tax = money(subtotal * TAX_RATE) if total is None else money(total - subtotal)
        grand = money(subtotal + tax) if total is None else total
        closed = created + timedelta(minutes=1)
        return {
            "type": "POS",
            "ticket_id": f"T-{number:04d}",
            "order_number": str(1000 + number),
            "external_order_number": None,
            "order_source": "IN_STORE",
            "created_by_employee": {
                "employee_id": "E1",
                "name": "Budtender One",
                "role": "BUDTENDER",
            },
            "customer_id": int(customer_id) if customer_id is not None else None,
            "ticket_patient_type": "ADULT",
            "cash_register_id": "R1",
            "order_status": "COMPLETED",
            "payment_status": "PAID",
            "date_created": self.stamp(created),
            "last_updated_at": self.stamp(closed),
            "date_closed": self.stamp(closed),
            "post_tax_pricing": False,
            "sub_total": subtotal,
            "tax_total": tax,
            "discount_total": 0.0,
            "total": grand,
            "ticket_note": None,
            "refund_reason": None,
            "original_ticket_id": None,
            "delivery_address": None,
            "items": [],
            "fees": [],
            "payments": [
                {
                    "payment_id": f"PAY{number}",
                    "payment_source": "POS",
                    "payment_method": "CASH",
                    "amount_paid": grand,
                    "payment_date": self.stamp(closed),
                }
            ],
            "reward_eligible": True,
            "reward_points_earned": int(subtotal),
            "reward_points_used": 0,
            "purchase_limit": None,
            "employee_id": "E1",
            "cash_drawer_name": "Drawer 1",
        }

    # -- bulk data ---------------------------------------------------------------------------
    def generate(
        self,
        n_customers: int,
        n_orders: int,
        seed: int = 0,
        *,
        dispensary: str | None = None,
        days: int = 90,
    ) -> dict[str, int]:
        """Customers (phones in varied formats, ~20 % ``opt_out: "true"``, ~2 % merged into
        another) and ``n_orders`` sale tickets over the last ``days`` days in the four
        channels (mostly POS; ~5 % walk-ins with ``customer_id: null``), ~6 % refunded by a
        refund ticket, ~1 % CANCELED, ~2 % still in progress."""
        with self.lock:
            rng = self.rng = random.Random(seed)
            self.people.rng = rng
            now = self.now().replace(microsecond=0)
            counts = {
                "customers": 0,
                "merged": 0,
                "tickets": 0,
                "refunds": 0,
                "canceled": 0,
                "in_progress": 0,
            }
            ids: list[str] = []
            for _ in range(n_customers):
                person = self.people.next()
                extra: dict[str, Any] = {
                    "phone": person.phone(rng.choice(PHONE_STYLES)),
                    "opt_out": rng.choices(("false", "true"), (80, 20))[0],
                    "rewards_balance": rng.randint(0, 500),
                    "referral_source": rng.choice((None, "Google", "Instagram", "Friend")),
                    "customer_groups": rng.choice(([], ["Loyalty"], ["Veteran"])),
                    "patient_type": rng.choices(("ADULT", "MEDICAL"), (85, 15))[0],
                }
                if rng.random() < 0.06:
                    extra["email"] = None
                when = now - timedelta(seconds=rng.randint(0, days * 86_400))
                record = self.add_customer(
                    dispensary=dispensary, last_update=when, person=person, **extra
                )
                ids.append(record["customer_id"])
                counts["customers"] += 1
            d = self._d(dispensary)
            for index in range(len(ids) // 50):
                loser, survivor = ids[index * 2], ids[index * 2 + 1]
                d.customers[loser].update(status="INACTIVE", merged_into_customer_id=survivor)
                d.customers[survivor]["merged_customer_ids"].append(loser)
                counts["merged"] += 1
            for _ in range(n_orders):
                created = now - timedelta(seconds=rng.randint(120, days * 86_400))
                customer = rng.choice(ids) if ids and rng.random() >= 0.05 else None
                lines = [self._random_line() for _ in range(rng.choice((1, 1, 2, 3)))]
                channel = rng.choices(CHANNELS, (70, 15, 10, 5))[0]
                roll = rng.random()
                if roll >= 0.98:
                    self.add_pending_ticket(
                        customer,
                        status=rng.choice(IN_PROGRESS),
                        dispensary=dispensary,
                        items=lines,
                        date_created=created,
                        type=channel,
                    )
                    counts["in_progress"] += 1
                    continue
                sale = self.add_ticket(
                    customer, dispensary=dispensary, items=lines, date_created=created, type=channel
                )
                counts["tickets"] += 1
                later = min(now, created + timedelta(days=rng.randint(0, 5), hours=2))
                if roll < 0.06:
                    amount = sale["total"] if rng.random() < 0.5 else money(sale["total"] / 2)
                    self.add_refund(sale["ticket_id"], amount, dispensary=dispensary, when=later)
                    counts["refunds"] += 1
                elif roll < 0.07:
                    self.cancel(sale["ticket_id"], dispensary=dispensary)
                    counts["canceled"] += 1
            return counts

    # -- HTTP --------------------------------------------------------------------------------
    def routes(self) -> list[Route]:
        after = "lastUpdated/after/{ts}/page/{page}/pagesize/{size}"
        return [
            Route(f"{BASE}/config/api/gettokens", self.endpoint(self._gettokens), methods=["POST"]),
            Route(
                f"{BASE}/config/api/refreshtoken", self.endpoint(self._refresh), methods=["POST"]
            ),
            Route(f"{BASE}/customer/{after}", self.endpoint(self._customers), methods=["GET"]),
            Route(f"{BASE}/ticket/{after}", self.endpoint(self._tickets), methods=["GET"]),
        ]

    def expire_tokens(self) -> None:
        """Every issued access token is expired from now on."""
        with self.lock:
            past = self.now() - timedelta(seconds=1)
            for token in self.tokens.values():
                if token.kind == "access":
                    token.expires_at = past

    def _dispensary(self, call: Call) -> Dispensary:
        name = call.path_params["dispensary"]
        if name not in self.dispensaries:
            raise HttpError(404, _fail(f"Unknown dispensary {name}"))
        return self.dispensaries[name]

    def _issue(self, dispensary: str) -> Response:
        now = self.now()
        access = TreezToken(
            secrets.token_urlsafe(24),
            dispensary,
            now + timedelta(seconds=self.token_ttl),
            "access",
        )
        refresh = TreezToken(
            secrets.token_urlsafe(24), dispensary, now + timedelta(days=30), "refresh"
        )
        self.tokens[access.value] = access
        self.tokens[refresh.value] = refresh
        return JSONResponse(
            {
                "resultCode": "SUCCESS",
                "access_token": access.value,
                "expires_at": _offset_without_colon(access.expires_at.astimezone(self.tz)),
                "expires_in": str(int(self.token_ttl)),
                "refresh_token": refresh.value,
            }
        )

    def _refusal(self, reason: str) -> HttpError:
        """A refused token request: 401, or 200 with ``refuse_with_200`` (no access_token
        either way)."""
        return HttpError(200 if self.refuse_with_200 else 401, _fail(reason))

    def _gettokens(self, call: Call) -> Response:
        self.token_requests += 1
        d = self._dispensary(call)
        if (call.form.get("client_id"), call.form.get("apikey")) != (self.client_id, self.api_key):
            raise self._refusal("Invalid client_id or apikey")
        return self._issue(d.name)

    def _refresh(self, call: Call) -> Response:
        self.token_requests += 1
        d = self._dispensary(call)
        token = self.tokens.get(call.form.get("refresh_token", ""))
        if (
            call.form.get("client_id") != self.client_id
            or token is None
            or token.kind != "refresh"
            or token.dispensary != d.name
        ):
            raise self._refusal("Invalid client_id or refresh_token")
        del self.tokens[token.value]
        return self._issue(d.name)

    def _check_auth(self, call: Call, d: Dispensary) -> None:
        token = self.tokens.get(call.headers.get("authorization", ""))
        status = 200 if self.invalid_token_with_200 else 401
        if call.headers.get("client_id") != self.client_id:
            raise HttpError(status, _fail("Missing or invalid client_id header"))
        if token is None or token.kind != "access" or token.dispensary != d.name:
            raise HttpError(status, _fail("Invalid access token"))
        if self.now() >= token.expires_at:
            raise HttpError(status, _fail("Access token expired"))

    def _page(self, call: Call) -> tuple[Dispensary, datetime, int, int]:
        d = self._dispensary(call)
        self._check_auth(call, d)
        raw = call.path_params["ts"]
        try:
            since = datetime.fromisoformat(raw)
        except ValueError:
            raise HttpError(400, _fail(f"Invalid date {raw}")) from None
        if since.tzinfo is None:
            since = since.replace(tzinfo=self.tz)
        try:
            page, size = int(call.path_params["page"]), int(call.path_params["size"])
        except ValueError:
            raise HttpError(400, _fail("page and pagesize must be integers")) from None
        if page < 1 or not 1 <= size <= self.max_page_size:
            raise HttpError(
                400, _fail(f"page must be >= 1 and pagesize between 1 and {self.max_page_size}")
            )
        return d, since, page, size

    @staticmethod
    def _newest_first(
        records: dict[str, dict[str, Any]], updated: dict[str, datetime], since: datetime
    ) -> list[dict[str, Any]]:
        keys = [k for k in records if updated[k] > since]
        keys.sort(key=lambda k: (updated[k], k), reverse=True)
        return [records[k] for k in keys]

    def _customers(self, call: Call) -> Response:
        d, since, page, size = self._page(call)
        rows = self._newest_first(d.customers, d.customer_updated, since)
        start = (page - 1) * size
        return self.list_response({"data": copy_json(rows[start : start + size])})

    def _tickets(self, call: Call) -> Response:
        d, since, page, size = self._page(call)
        rows = self._newest_first(d.tickets, d.ticket_updated, since)
        start = (page - 1) * size
        return self.list_response({"ticketList": copy_json(rows[start : start + size])})
