"""``FlowhubPos``: the Flowhub public API.

Real paths and shapes from domain.md §1.3, the public client cited in README.md
(yerba-buena/flowhub-client-ts), ``flowhub_customer.sample.json`` and
``flowhub_order.sample.json``: headers ``clientId`` + ``key``; stores
``GET /v0/clientsLocations`` → ``{"status", "data"}`` (``/v0/locations`` is per-location
inventory: 404 here); customers ``GET /v1/customers/?updated_after=YYYY-MM-DD&page=&page_size=``
(org-wide; the answer's shape is undocumented: ``customers_envelope=``); orders per location
``GET /v1/orders/findByLocationId/{importId}?created_after=YYYY-MM-DD&…`` → ``{"total",
"orders"}`` filtered on the **store-local creation date**. Every date bound is a day: an ISO
timestamp → 404. Amounts in integer cents (``amounts=``); lowercase ``orderStatus: "sold"``;
refunds are orders with ``originalSaleId`` and negative totals; voids set ``voided: true``.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.pos_fake.common import Call, HttpError, PosFake, copy_json, copy_record, money
from tests.pos_fake.data import PHONE_STYLES, People, Person

TAX_RATE = 0.17
DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
UNAUTHORIZED = {"message": "Unauthorized"}
CATALOGUE = (
    ("p1", "Example Gummies", "SKU1", "Edibles", 20.0),
    ("p2", "Example Flower 3.5g", "SKU2", "Flower", 35.0),
    ("p3", "Example Cart 1g", "SKU3", "Vapes", 45.0),
    ("p4", "Example Pre-Roll", "SKU4", "Pre-Rolls", 10.0),
)


def _js(value: datetime) -> str:
    """JavaScript ``toISOString()``: ``2026-05-02T01:30:00.000Z``."""
    return value.astimezone(ZoneInfo("UTC")).strftime("%Y-%m-%dT%H:%M:%S.") + (
        f"{value.microsecond // 1000:03d}Z"
    )


class FlowhubPos(PosFake):
    """Flowhub. See README.md § FlowhubPos."""

    def __init__(
        self,
        *,
        client_id: str = "flowhub-client-id",
        api_key: str = "flowhub-api-key",
        timezone: str = "America/Los_Angeles",
        state: str = "MI",
        locations: Sequence[str] = ("Example Dispensary - Detroit",),
        max_page_size: int = 500,
        customers_envelope: Literal["data", "customers", "bare"] = "data",
        amounts: Literal["cents", "dollars"] = "cents",
        now: datetime | None = None,
        seed: int = 0,
    ) -> None:
        super().__init__(now=now)
        if customers_envelope not in ("data", "customers", "bare"):
            raise ValueError(f"customers_envelope: {customers_envelope!r}")
        if amounts not in ("cents", "dollars"):
            raise ValueError(f"amounts: {amounts!r}")
        self.customers_envelope = customers_envelope
        self.amounts = amounts
        self.client_id = client_id
        self.api_key = api_key
        self.timezone = timezone
        self.max_page_size = max_page_size
        self.rng = random.Random(seed)
        self.people = People(self.rng, state)
        self.locations: list[dict[str, Any]] = []
        self.customers: dict[str, dict[str, Any]] = {}
        self.orders: dict[str, dict[str, Any]] = {}
        self._next_customer = 1
        self._next_order = 1
        for name in locations:
            self.add_location(name)

    @property
    def headers(self) -> dict[str, str]:
        """What a client sends: ``{"clientId": …, "key": …}``."""
        return {"clientId": self.client_id, "key": self.api_key}

    def amount(self, dollars: float) -> int | float:
        """A money value as served: integer cents (``amounts="cents"``) or dollars."""
        if self.amounts == "cents":
            return round(money(dollars) * 100)
        return money(dollars)

    def dollars(self, served: float) -> float:
        """The inverse of :meth:`amount`."""
        return money(served / 100) if self.amounts == "cents" else money(served)

    # -- locations -----------------------------------------------------------------------------
    def add_location(
        self, name: str, *, import_id: str | None = None, timezone: str | None = None
    ) -> dict[str, Any]:
        """A store; ``importId`` (default ``imp_<n>``) is what ``findByLocationId`` takes;
        ``timezone`` (default the fake's) is the zone its creation dates are read in."""
        with self.lock:
            n = len(self.locations) + 1
            area = self.people.next()
            record = {
                "locationId": f"loc_{n}",
                "importId": import_id or f"imp_{n}",
                "locationName": name,
                "clientId": "client_x",
                "clientName": "Example Cannabis Co",
                "email": f"store{n}@example.com",
                "phoneNumber": area.phone("e164"),
                "timeZone": timezone or self.timezone,
                "licenseType": ["recreational"],
                "hoursOfOperation": None,
                "locationLogoURL": None,
                "website": "https://www.example.com",
                "address": {
                    "streetAddress1": area.street,
                    "streetAddress2": None,
                    "city": area.city,
                    "state": area.state,
                    "zip": area.zip,
                    "county": None,
                    "country": "US",
                },
            }
            self.locations.append(record)
            return copy_record(record)

    def _location(self, import_id: str | None) -> dict[str, Any]:
        if import_id is None:
            return self.locations[0]
        for location in self.locations:
            if import_id in (location["importId"], location["locationId"]):
                return location
        raise KeyError(import_id)

    # -- customers ---------------------------------------------------------------------------
    def add_customer(
        self,
        *,
        created_at: datetime | None = None,
        updated_at: datetime | None = None,
        person: Person | None = None,
        **fields: Any,
    ) -> dict[str, Any]:
        """Add a customer; ``fields`` (camelCase, as served) override generated ones."""
        with self.lock:
            now = self.now().replace(microsecond=0)
            updated = (updated_at or now).replace(microsecond=0)
            created = (created_at or (updated - timedelta(days=self.rng.randint(0, 600)))).replace(
                microsecond=0
            )
            customer_id = str(fields.pop("id", f"cus_{self._next_customer:05d}"))
            self._next_customer += 1
            person = person or self.people.next()
            record: dict[str, Any] = {
                "id": customer_id,
                "createdAt": _js(created),
                "updatedAt": _js(updated),
                "type": "recCustomer",
                "name": person.full_name,
                "state": person.state,
                "birthDate": f"{self.rng.randint(1955, 2003)}-0{self.rng.randint(1, 9)}-14",
                "isLoyal": False,
                "loyaltyPoints": 0,
                "loyaltyPointsInPennies": 0,
                "phone": person.e164,
                "email": person.email,
                "streetAddress1": person.street,
                "streetAddress2": "",
                "city": person.city,
                "zip": person.zip,
                "country": "US",
                "consentsToPromotionalEmail": False,
                "consentsToPromotionalSMS": False,
                "groups": [],
            }
            record.update(copy_json(fields))
            self.customers[customer_id] = record
            return copy_record(record)

    def update_customer(
        self, customer_id: str, *, updated_at: datetime | None = None, **fields: Any
    ) -> dict[str, Any]:
        """Change fields; ``updatedAt`` = ``updated_at`` (default now)."""
        with self.lock:
            record = self.customers[customer_id]
            record.update(copy_json(fields))
            record["updatedAt"] = _js((updated_at or self.now()).replace(microsecond=0))
            return copy_record(record)

    # -- orders ------------------------------------------------------------------------------
    def add_order(
        self,
        customer_id: str | None,
        *,
        location: str | None = None,
        items: Sequence[tuple[str, int, float]] | None = None,
        created_at: datetime | None = None,
        **fields: Any,
    ) -> dict[str, Any]:
        """A completed sale at ``location`` (importId/locationId; default the first).
        ``items``: ``(productId, quantity, unitPrice)`` with the price in DOLLARS; totals +
        17 % tax, served in cents (or dollars with ``amounts="dollars"``)."""
        with self.lock:
            store = self._location(location)
            created = (created_at or self.now()).replace(microsecond=0)
            lines = list(items) if items is not None else [self._random_line()]
            cart = [self._item(*line) for line in lines]
            subtotal = money(sum(quantity * price for _, quantity, price in lines))
            record = self._order(store, customer_id, created, subtotal)
            record["itemsInCart"] = cart
            record.update(copy_json(fields))
            self.orders[record["id"]] = record
            return copy_record(record)

    def add_refund(
        self, original_id: str, amount: float | str, *, created_at: datetime | None = None
    ) -> dict[str, Any]:
        """A refund: a new order at the same location with ``originalSaleId`` → the sale and
        negative totals (``amount`` in DOLLARS; ``totals.FinalTotal == -amount`` served in
        cents, e.g. ``-1170``); ``orderStatus`` stays ``"sold"``. The original is unchanged."""
        with self.lock:
            original = self.orders[original_id]
            if original["originalSaleId"]:
                raise ValueError(f"{original_id} is itself a refund")
            refunded = -sum(
                self.dollars(o["totals"]["FinalTotal"])
                for o in self.orders.values()
                if o["originalSaleId"] == original_id
            )
            sold = self.dollars(original["totals"]["FinalTotal"])
            total = money(amount)
            if total <= 0 or total > money(sold - refunded) + 0.001:
                raise ValueError(f"cannot refund {total} of {sold}")
            store = self._location(original["locationId"])
            created = (created_at or self.now()).replace(microsecond=0)
            subtotal = -money(total / (1 + TAX_RATE))
            record = self._order(store, original["customerId"], created, subtotal, total=-total)
            item = dict(original["itemsInCart"][0], quantity=-1, totalPrice=self.amount(subtotal))
            record.update(originalSaleId=original_id, itemsInCart=[item])
            self.orders[record["id"]] = record
            return copy_record(record)

    def void(self, order_id: str) -> dict[str, Any]:
        """``voided: true`` on the order (nothing else changes; orders carry no update
        stamp, so only a re-read of its creation date shows it)."""
        with self.lock:
            self.orders[order_id]["voided"] = True
            return copy_record(self.orders[order_id])

    def _random_line(self) -> tuple[str, int, float]:
        product, _, _, _, price = self.rng.choice(CATALOGUE)
        return product, self.rng.choice((1, 1, 2)), price

    def _item(self, product_id: str, quantity: int, price: float) -> dict[str, Any]:
        _, name, sku, category, _ = next(
            (row for row in CATALOGUE if row[0] == product_id),
            (product_id, product_id, "", "Other", price),
        )
        n = self.rng.randint(1, 10**6)
        return {
            "id": f"li{n}",
            "productId": product_id,
            "productName": name,
            "sku": sku,
            "quantity": quantity,
            "unitPrice": self.amount(price),
            "totalPrice": self.amount(quantity * price),
            "category": category,
            "brand": "Brand",
        }

    def _order(
        self,
        store: dict[str, Any],
        customer_id: str | None,
        created: datetime,
        subtotal: float,
        *,
        total: float | None = None,
    ) -> dict[str, Any]:
        n = self._next_order
        self._next_order += 1
        tax = money(subtotal * TAX_RATE) if total is None else money(total - subtotal)
        grand = money(subtotal + tax) if total is None else total
        customer = self.customers.get(customer_id or "")
        name = customer["name"] if customer else ""
        return {
            "id": f"sale_{n:05d}",
            "orderId": f"ord_{n:05d}",
            "clientId": store["clientId"],
            "locationId": store["locationId"],
            "customerId": customer_id or "",
            "customerType": customer["type"] if customer else "recCustomer",
            "name": name,
            "fullName": name,
            "budtender": "Budtender One",
            "budtenderId": "",
            "createdAt": _js(created),
            "completedOn": _js(created + timedelta(minutes=5)),
            "orderStatus": "sold",
            "orderType": "in-store",
            "originalSaleId": "",
            "voided": False,
            "currentPoints": customer["loyaltyPoints"] if customer else 0,
            "itemsInCart": [],
            "payments": [
                {
                    "_id": f"pm{n}",
                    "paymentType": "cash",
                    "amount": self.amount(grand),
                    "loyaltyPoints": 0,
                }
            ],
            "totals": {
                "FinalTotal": self.amount(grand),
                "SubTotal": self.amount(subtotal),
                "TotalDiscounts": 0,
                "TotalFees": 0,
                "TotalTaxes": self.amount(tax),
            },
            "integratorId": "",
            "fulfilledBy": "",
            "fulfilledById": "",
            "sentToFulfillmentBy": "",
            "sentToFulfillmentById": "",
        }

    # -- bulk data ---------------------------------------------------------------------------
    def generate(
        self, n_customers: int, n_orders: int, seed: int = 0, *, days: int = 90
    ) -> dict[str, int]:
        """Customers (phones in varied formats, SMS consent ~40 %, loyalty ~60 % and
        independent of consent) and ``n_orders`` sales spread over the locations and the last
        ``days`` days — with ~10 % created within 2 h of local midnight — ~6 % refunded by a
        refund order, ~2 % voided, ~8 % without a customer."""
        with self.lock:
            rng = self.rng = random.Random(seed)
            self.people.rng = rng
            now = self.now().replace(microsecond=0)
            counts = {"customers": 0, "orders": 0, "refunds": 0, "voids": 0}
            ids: list[str] = []
            for _ in range(n_customers):
                person = self.people.next()
                loyal = rng.random() < 0.6
                points = rng.randint(0, 800) if loyal else 0
                extra: dict[str, Any] = {
                    "phone": person.phone(rng.choice(PHONE_STYLES)),
                    "type": rng.choices(("recCustomer", "medCustomer"), (85, 15))[0],
                    "isLoyal": loyal,
                    "loyaltyPoints": points,
                    "loyaltyPointsInPennies": points,
                    "consentsToPromotionalSMS": rng.random() < 0.4,
                    "consentsToPromotionalEmail": rng.random() < 0.5,
                    "groups": rng.choice(([], [{"name": "Industry"}], [{"name": "Veteran"}])),
                }
                if rng.random() < 0.05:
                    extra["email"] = ""
                updated = now - timedelta(seconds=rng.randint(0, days * 86_400))
                record = self.add_customer(updated_at=updated, person=person, **extra)
                ids.append(record["id"])
                counts["customers"] += 1
            for _ in range(n_orders):
                store = rng.choice(self.locations)
                created = now - timedelta(seconds=rng.randint(600, days * 86_400))
                if rng.random() < 0.1:  # near local midnight: the date depends on the zone
                    local = created.astimezone(ZoneInfo(store["timeZone"]))
                    local = local.replace(hour=rng.choice((22, 23, 0, 1)), minute=30)
                    created = min(now - timedelta(minutes=10), local.astimezone(ZoneInfo("UTC")))
                customer = rng.choice(ids) if ids and rng.random() >= 0.08 else None
                lines = [self._random_line() for _ in range(rng.choice((1, 1, 2, 3)))]
                sale = self.add_order(
                    customer, location=store["importId"], items=lines, created_at=created
                )
                counts["orders"] += 1
                roll = rng.random()
                if roll < 0.06:
                    total = self.dollars(sale["totals"]["FinalTotal"])
                    amount = total if rng.random() < 0.5 else money(total / 2)
                    later = min(now, created + timedelta(days=rng.randint(0, 5), hours=1))
                    self.add_refund(sale["id"], amount, created_at=later)
                    counts["refunds"] += 1
                elif roll < 0.08:
                    self.void(sale["id"])
                    counts["voids"] += 1
            return counts

    # -- HTTP --------------------------------------------------------------------------------
    def routes(self) -> list[Route]:
        customers = self.endpoint(self._customers)
        return [
            Route("/v1/customers/", customers, methods=["GET"]),
            Route("/v1/customers", customers, methods=["GET"]),
            Route("/v0/clientsLocations", self.endpoint(self._clients_locations), methods=["GET"]),
            Route(
                "/v1/orders/findByLocationId/{import_id}",
                self.endpoint(self._orders_by_location),
                methods=["GET"],
            ),
            Route(
                "/v1/orders/findByCustomerId/{customer_id}",
                self.endpoint(self._orders_by_customer),
                methods=["GET"],
            ),
        ]

    def _check_auth(self, call: Call) -> None:
        if (call.headers.get("clientId"), call.headers.get("key")) != (
            self.client_id,
            self.api_key,
        ):
            raise HttpError(401, UNAUTHORIZED)

    def _paging(self, call: Call) -> tuple[int, int]:
        try:
            page = int(call.query.get("page") or 1)
            size = int(call.query.get("page_size") or 100)
        except ValueError:
            raise HttpError(400, {"message": "page and page_size must be integers"}) from None
        if page < 1 or size < 1:
            raise HttpError(400, {"message": "page and page_size must be >= 1"})
        return page, min(size, self.max_page_size)

    def _customers(self, call: Call) -> Response:
        self._check_auth(call)
        page, size = self._paging(call)
        bounds = {
            name: _local_date(call, name)
            for name in ("created_after", "created_before", "updated_after", "updated_before")
        }
        zone = ZoneInfo(self.timezone)
        rows: list[dict[str, Any]] = []
        for record in self.customers.values():
            created = datetime.fromisoformat(record["createdAt"]).astimezone(zone).date()
            updated = datetime.fromisoformat(record["updatedAt"]).astimezone(zone).date()
            if not (
                _in_days(created, bounds["created_after"], bounds["created_before"])
                and _in_days(updated, bounds["updated_after"], bounds["updated_before"])
            ):
                continue
            rows.append(record)
        order_by = call.query.get("order_by", "createdAt")
        descending = order_by.startswith("-") or order_by.lower() == "desc"
        key = order_by.lstrip("-")
        if key not in ("createdAt", "updatedAt"):
            key = "createdAt"
        rows.sort(key=lambda r: (r[key], r["id"]), reverse=descending)
        served = copy_json(rows[(page - 1) * size : page * size])
        if "store_id" not in call.query:
            for record in served:
                record.pop("loyaltyPointsInPennies", None)
        if self.customers_envelope == "bare":
            return self.list_response(served)
        if self.customers_envelope == "customers":
            return self.list_response({"total": len(rows), "customers": served})
        return self.list_response({"status": 200, "data": served})

    def _clients_locations(self, call: Call) -> Response:
        self._check_auth(call)
        return JSONResponse({"status": 200, "data": copy_json(self.locations)})

    def _orders_page(self, call: Call, rows: list[dict[str, Any]]) -> Response:
        page, size = self._paging(call)
        after = _local_date(call, "created_after")
        before = _local_date(call, "created_before")
        kept = []
        for record in rows:
            store = self._location(record["locationId"])
            created = datetime.fromisoformat(record["createdAt"])
            day = created.astimezone(ZoneInfo(store["timeZone"])).date()
            if not _in_days(day, after, before):
                continue
            kept.append(record)
        descending = call.query.get("order_by", "asc").lower() in ("desc", "-createdat")
        kept.sort(key=lambda r: (r["createdAt"], r["id"]), reverse=descending)
        served = copy_json(kept[(page - 1) * size : page * size])
        return self.list_response({"total": len(kept), "orders": served})

    def _orders_by_location(self, call: Call) -> Response:
        self._check_auth(call)
        import_id = call.path_params["import_id"]
        try:
            store = self._location(import_id)
        except KeyError:
            raise HttpError(404, {"message": f"Location {import_id} not found"}) from None
        rows = [o for o in self.orders.values() if o["locationId"] == store["locationId"]]
        return self._orders_page(call, rows)

    def _orders_by_customer(self, call: Call) -> Response:
        self._check_auth(call)
        wanted = call.path_params["customer_id"]
        return self._orders_page(
            call, [o for o in self.orders.values() if o["customerId"] == wanted]
        )


def _in_days(day: date, after: date | None, before: date | None) -> bool:
    """``after`` inclusive, ``before`` exclusive (assumption)."""
    return (after is None or day >= after) and (before is None or day < before)


def _local_date(call: Call, name: str) -> date | None:
    raw = call.query.get(name)
    if not raw:
        return None
    if not DATE_ONLY.match(raw):
        raise HttpError(404, {"message": f"{name} must be in format yyyy-mm-dd"})
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise HttpError(404, {"message": f"{name} must be in format yyyy-mm-dd"}) from None
