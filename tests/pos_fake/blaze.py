"""``BlazePos``: the BLAZE partner API (swagger 1.0.0, host ``api.partners.blaze.me``).

Real paths and shapes from domain.md §1.5, the swagger and clients cited in README.md,
``blaze_member.sample.json`` and ``blaze_transaction.sample.json``: headers ``partner_key`` +
``Authorization`` (the raw dispensary key); ``GET /api/v1/partner/store`` (StoreInfoResult);
``GET /api/v1/partner/members`` (``startDate``/``endDate`` epoch milliseconds, newest
``modified`` first) and ``/transactions`` (``startDate``/``endDate`` ``MM/dd/yyyy`` day strings,
at most 100 per page), both with ``skip``/``limit`` and the envelope ``{"values", "skip",
"limit", "total"}``. Refunds in the three shapes the swagger allows: a separate
``transType: "Refund"`` transaction, a status change on the original, refunded line items.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.pos_fake.common import (
    Call,
    HttpError,
    PosFake,
    copy_json,
    copy_record,
    epoch_ms,
    from_epoch_ms,
    money,
)
from tests.pos_fake.data import PHONE_STYLES, People, Person

TAX_RATE = 0.14
CATALOGUE = (
    ("prod_1", "SKU-1", "Example Flower 3.5g", "Flower", 45.0),
    ("prod_2", "SKU-2", "Example Gummies 100mg", "Edibles", 20.0),
    ("prod_3", "SKU-3", "Example Cart 0.5g", "Vape", 38.0),
    ("prod_4", "SKU-4", "Example Pre-Roll", "Pre-Roll", 9.0),
)


US_DATE = re.compile(r"^\d{2}/\d{2}/\d{4}$")
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
ISO_STAMP = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")
TransactionDates = Literal["us_date", "epoch_ms", "iso"]


def _error(message: str, *, field: str | None = None, kind: str = "BadRequest") -> dict[str, Any]:
    return {"field": field, "message": message, "errorType": kind}


class BlazePos(PosFake):
    """BLAZE partner API for one shop. See README.md § BlazePos."""

    def __init__(
        self,
        *,
        partner_key: str = "blaze-partner-key",
        dispensary_key: str = "blaze-dispensary-key",
        shop_id: str = "shop_1",
        shop_name: str = "Example Dispensary - Las Vegas",
        company_id: str = "co_1",
        timezone: str = "America/Los_Angeles",
        state: str = "NV",
        max_limit: int = 500,
        max_transaction_limit: int = 100,
        transaction_dates: TransactionDates = "us_date",
        date_zone: str = "UTC",
        end_inclusive: bool = True,
        max_window_days: float | None = None,
        members_order: Literal["desc", "asc"] = "desc",
        transactions_order: Literal["asc", "desc"] = "asc",
        now: datetime | None = None,
        seed: int = 0,
    ) -> None:
        super().__init__(now=now)
        if transaction_dates not in ("us_date", "epoch_ms", "iso"):
            raise ValueError(f"transaction_dates: {transaction_dates!r}")
        if members_order not in ("desc", "asc") or transactions_order not in ("desc", "asc"):
            raise ValueError("members_order / transactions_order: 'asc' or 'desc'")
        self.partner_key = partner_key
        self.dispensary_key = dispensary_key
        self.shop_id = shop_id
        self.company_id = company_id
        self.timezone = timezone
        self.max_limit = max_limit
        self.max_transaction_limit = max_transaction_limit
        self.transaction_dates: TransactionDates = transaction_dates
        self.date_zone = ZoneInfo(timezone if date_zone == "shop" else date_zone)
        """The zone transaction days are read in: UTC by default, ``"shop"`` = the shop's."""
        self.end_inclusive = end_inclusive
        self.max_window_days = max_window_days
        self.members_order = members_order
        self.transactions_order = transactions_order
        self.rng = random.Random(seed)
        self.people = People(self.rng, state)
        where = self.people.next()
        offset = self.now().astimezone(ZoneInfo(timezone)).utcoffset() or timedelta(0)
        self.shop: dict[str, Any] = {
            "id": shop_id,
            "name": shop_name,
            "companyId": company_id,
            "shortIdentifier": "EXD",
            "timeZone": timezone,
            "timezoneOffsetInMinutes": int(offset.total_seconds() // 60),
            "phoneNumber": where.phone("paren"),
            "active": True,
            "deleted": False,
            "address": {
                "address": where.street,
                "addressLine2": None,
                "city": where.city,
                "state": where.state,
                "zipCode": where.zip,
                "country": "US",
            },
        }
        """``shop`` of ``GET /api/v1/partner/store`` (edit freely)."""
        self.members: dict[str, dict[str, Any]] = {}
        self.transactions: dict[str, dict[str, Any]] = {}
        self._next_member = 1
        self._next_transaction = 1
        self._next_item = 1

    @property
    def headers(self) -> dict[str, str]:
        """What a client sends: ``{"partner_key": …, "Authorization": <dispensary key>}``."""
        return {"partner_key": self.partner_key, "Authorization": self.dispensary_key}

    def _ms(self, value: datetime | None = None) -> int:
        return epoch_ms(value or self.now())

    # -- members -----------------------------------------------------------------------------
    def add_member(
        self,
        *,
        modified: datetime | None = None,
        person: Person | None = None,
        **fields: Any,
    ) -> dict[str, Any]:
        """Add a member; ``fields`` (camelCase, as served) override generated ones.
        ``modified`` (default now) → ``modified`` epoch ms, what the date filter uses."""
        with self.lock:
            now_ms = self._ms()
            modified_ms = self._ms(modified) if modified is not None else now_ms
            member_id = str(
                fields.pop("id", f"{0x5F0000000000000000000000 + self._next_member:024x}")
            )
            self._next_member += 1
            person = person or self.people.next()
            created_ms = min(modified_ms, now_ms) - self.rng.randint(1, 700) * 86_400_000
            year = self.rng.randint(1955, 2003)
            dob = epoch_ms(datetime(year, 1, 1, 8))
            record: dict[str, Any] = {
                "id": member_id,
                "created": created_ms,
                "modified": modified_ms,
                "deleted": False,
                "companyId": self.company_id,
                "shopId": self.shop_id,
                "firstName": person.first,
                "lastName": person.last,
                "middleName": None,
                "primaryPhone": person.phone("paren"),
                "cpn": person.e164,
                "email": person.email,
                "textOptIn": False,
                "emailOptIn": False,
                "medical": False,
                "consumerType": "AdultUse",
                "status": "Active",
                "sex": "OTHER",
                "dob": dob,
                "birthdate": f"{year}-01-01",
                "address": {
                    "address": person.street,
                    "addressLine2": None,
                    "city": person.city,
                    "state": person.state,
                    "zipCode": person.zip,
                    "country": "US",
                },
                "addresses": [],
                "lastVisitDate": None,
                "startDate": created_ms,
                "marketingSource": None,
                "enableLoyalty": False,
                "loyaltyPoints": 0.0,
                "lifetimePoints": 0.0,
                "memberGroupId": "grp_1",
                "identifications": [],
                "recommendations": [],
                "tags": [],
                "banPatient": False,
                "anonymous": False,
                "referralCode": None,
            }
            record.update(copy_json(fields))
            self.members[member_id] = record
            return copy_record(record)

    def update_member(
        self, member_id: str, *, modified: datetime | None = None, **fields: Any
    ) -> dict[str, Any]:
        """Change fields; ``modified`` = ``modified`` (default now)."""
        with self.lock:
            record = self.members[member_id]
            record.update(copy_json(fields))
            record["modified"] = self._ms(modified)
            return copy_record(record)

    # -- transactions ------------------------------------------------------------------------
    def add_transaction(
        self,
        member_id: str | None,
        *,
        items: Sequence[tuple[str, int, float]] | None = None,
        completed: datetime | None = None,
        **fields: Any,
    ) -> dict[str, Any]:
        """A completed sale (``status: "Completed"``, ``transType: "Sale"``). ``items``:
        ``(productId, quantity, unitPrice)``; cart totals + 14 % tax. ``modified`` = completion
        + 50 s."""
        with self.lock:
            done = completed or self.now()
            lines = list(items) if items is not None else [self._random_line()]
            cart_items = [self._item(*line) for line in lines]
            subtotal = money(sum(i["finalPrice"] for i in cart_items))
            record = self._transaction(member_id, done, subtotal)
            record["cart"]["items"] = cart_items
            record.update(copy_json(fields))
            self.transactions[record["id"]] = record
            if member_id in self.members:
                member = self.members[member_id]
                member["lastVisitDate"] = max(member["lastVisitDate"] or 0, record["completedTime"])
            return copy_record(record)

    def add_refund_transaction(
        self, original_id: str, amount: float | str, *, when: datetime | None = None
    ) -> dict[str, Any]:
        """Shape 1 — a SEPARATE transaction: ``transType: "Refund"``, ``status:
        "Completed"``, ``parentTransactionId`` → the sale, negative cart totals
        (``cart.total == -amount``). The original is unchanged."""
        with self.lock:
            original = self.transactions[original_id]
            total = self._check_refund(original, amount)
            done = when or self.now()
            subtotal = -money(total / (1 + TAX_RATE))
            record = self._transaction(original["memberId"], done, subtotal, total=-total)
            source = original["cart"]["items"][0]
            item = dict(
                source,
                id=f"oi_{self._next_item}",
                orderItemId=f"oi_{self._next_item}",
                quantity=1,
                finalPrice=subtotal,
                calcTax=money(-total - subtotal),
            )
            self._next_item += 1
            record.update(transType="Refund", parentTransactionId=original_id)
            record["cart"]["items"] = [item]
            record["pointsEarned"] = float(int(subtotal))
            self.transactions[record["id"]] = record
            return copy_record(record)

    def refund_original(
        self,
        original_id: str,
        amount: float | str,
        *,
        with_inventory: bool = True,
        when: datetime | None = None,
    ) -> dict[str, Any]:
        """Shape 2 — a STATUS CHANGE on the original: ``status: "RefundWithInventory"`` (or
        ``"RefundWithoutInventory"``), ``cart.refundAmount`` += ``amount`` (cumulative),
        ``transactionRefundStatus: "Partial_Refund"`` — ``"Complete_Refund"`` once the whole
        ``cart.total`` is refunded — and ``modified`` = now. No new transaction."""
        with self.lock:
            record = self.transactions[original_id]
            total = self._check_refund(record, amount)
            cart = record["cart"]
            cart["refundAmount"] = money(cart["refundAmount"] + total)
            complete = cart["refundAmount"] >= cart["total"] - 0.001
            record.update(
                status="RefundWithInventory" if with_inventory else "RefundWithoutInventory",
                transactionRefundStatus="Complete_Refund" if complete else "Partial_Refund",
                modified=self._ms(when),
            )
            return copy_record(record)

    def refund_items(
        self,
        original_id: str,
        item_indexes: Sequence[int] | None = None,
        *,
        set_status: bool = False,
        when: datetime | None = None,
    ) -> dict[str, Any]:
        """Shape 3 — REFUNDED LINE ITEMS on the original: each chosen
        ``cart.items[i]`` (default all) gets ``status: "Refunded"``, ``totalRefundAmount`` =
        its ``finalPrice`` + ``calcTax``, ``totalRefundQty`` = its ``quantity``; ``modified``
        = now. ``set_status=True`` also applies shape 2's fields for the same amount."""
        with self.lock:
            record = self.transactions[original_id]
            items = record["cart"]["items"]
            chosen = range(len(items)) if item_indexes is None else item_indexes
            refunded = 0.0
            for index in chosen:
                item = items[index]
                if item["status"] == "Refunded":
                    continue
                amount = money(item["finalPrice"] + item["calcTax"])
                item.update(
                    status="Refunded", totalRefundAmount=amount, totalRefundQty=item["quantity"]
                )
                refunded += amount
            record["modified"] = self._ms(when)
            if set_status and refunded:
                self.refund_original(original_id, money(refunded), when=when)
            return copy_record(self.transactions[original_id])

    def void(self, transaction_id: str, *, when: datetime | None = None) -> dict[str, Any]:
        """``status: "Void"``, ``voidDate`` = now (epoch ms), ``modified`` = now."""
        with self.lock:
            record = self.transactions[transaction_id]
            stamp = self._ms(when)
            record.update(status="Void", voidDate=stamp, modified=stamp)
            return copy_record(record)

    def _check_refund(self, original: dict[str, Any], amount: float | str) -> float:
        if original["transType"] != "Sale":
            raise ValueError(f"{original['id']} is not a Sale")
        separate = -sum(
            t["cart"]["total"]
            for t in self.transactions.values()
            if t["parentTransactionId"] == original["id"]
        )
        already = separate + original["cart"]["refundAmount"]
        total = money(amount)
        if total <= 0 or total > money(original["cart"]["total"] - already) + 0.001:
            raise ValueError(f"cannot refund {total} of {original['cart']['total']}")
        return total

    def _random_line(self) -> tuple[str, int, float]:
        product, _, _, _, price = self.rng.choice(CATALOGUE)
        return product, self.rng.choice((1, 1, 2)), price

    def _item(self, product_id: str, quantity: int, price: float) -> dict[str, Any]:
        _, sku, name, category, _ = next(
            (row for row in CATALOGUE if row[0] == product_id),
            (product_id, product_id, product_id, "Other", price),
        )
        item_id = f"oi_{self._next_item}"
        self._next_item += 1
        final = money(quantity * price)
        return {
            "id": item_id,
            "orderItemId": item_id,
            "productId": product_id,
            "productSku": sku,
            "productName": name,
            "categoryName": category,
            "brandName": "Brand",
            "quantity": quantity,
            "unitPrice": money(price),
            "finalPrice": final,
            "discount": 0.0,
            "calcTax": money(final * TAX_RATE),
            "status": "Active",
            "totalRefundAmount": 0.0,
            "totalRefundQty": 0,
        }

    def _transaction(
        self,
        member_id: str | None,
        done: datetime,
        subtotal: float,
        *,
        total: float | None = None,
    ) -> dict[str, Any]:
        n = self._next_transaction
        self._next_transaction += 1
        tax = money(subtotal * TAX_RATE) if total is None else money(total - subtotal)
        grand = money(subtotal + tax) if total is None else total
        completed_ms = epoch_ms(done)
        start_ms = completed_ms - 250_000
        return {
            "id": f"tx_{n:05d}",
            "created": start_ms,
            "modified": completed_ms + 50_000,
            "shopId": self.shop_id,
            "transNo": str(10_000 + n),
            "parentTransactionId": None,
            "memberId": member_id,
            "sellerId": "emp_1",
            "terminalId": "term_1",
            "queueType": "WalkIn",
            "status": "Completed",
            "transType": "Sale",
            "transactionRefundStatus": "None",
            "startTime": start_ms,
            "endTime": completed_ms,
            "completedTime": completed_ms,
            "processedTime": completed_ms,
            "voidDate": None,
            "consumerType": "AdultUse",
            "purchaseType": "AdultUse",
            "pointsEarned": float(int(subtotal)),
            "timeZone": self.timezone,
            "cart": {
                "subTotal": subtotal,
                "totalDiscount": 0.0,
                "tax": tax,
                "total": grand,
                "feeTotal": 0.0,
                "pointSpent": 0.0,
                "paymentOption": "Cash",
                "refundAmount": 0.0,
                "refundOption": None,
                "items": [],
            },
        }

    # -- bulk data ---------------------------------------------------------------------------
    def generate(
        self, n_customers: int, n_orders: int, seed: int = 0, *, days: int = 90
    ) -> dict[str, int]:
        """Members (``primaryPhone`` in varied formats, ``cpn`` E.164 or null, textOptIn
        ~40 %, enableLoyalty ~60 % and independent) and ``n_orders`` sales over the last
        ``days`` days; of those ~3 % refunded by a separate Refund transaction, ~3 % by a
        status change, ~2 % by refunded items, ~2 % voided, ~5 % without a member."""
        with self.lock:
            rng = self.rng = random.Random(seed)
            self.people.rng = rng
            now = self.now()
            counts = {
                "members": 0,
                "transactions": 0,
                "refund_transactions": 0,
                "refund_status": 0,
                "refund_items": 0,
                "voids": 0,
            }
            ids: list[str] = []
            for _ in range(n_customers):
                person = self.people.next()
                loyal = rng.random() < 0.6
                extra: dict[str, Any] = {
                    "primaryPhone": person.phone(rng.choice(PHONE_STYLES)),
                    "cpn": person.e164 if rng.random() < 0.7 else None,
                    "textOptIn": rng.random() < 0.4,
                    "emailOptIn": rng.random() < 0.5,
                    "enableLoyalty": loyal,
                    "loyaltyPoints": float(rng.randint(0, 600)) if loyal else 0.0,
                    "consumerType": rng.choices(
                        ("AdultUse", "MedicinalState", "Other"), (85, 12, 3)
                    )[0],
                    "status": rng.choices(("Active", "Pending", "Inactive"), (90, 5, 5))[0],
                    "marketingSource": rng.choice((None, "Instagram", "Walk In", "Google")),
                }
                extra["medical"] = extra["consumerType"] == "MedicinalState"
                extra["lifetimePoints"] = extra["loyaltyPoints"] * 3
                if rng.random() < 0.06:
                    extra["email"] = None
                modified = now - timedelta(seconds=rng.randint(0, days * 86_400))
                record = self.add_member(modified=modified, person=person, **extra)
                ids.append(record["id"])
                counts["members"] += 1
            for _ in range(n_orders):
                done = now - timedelta(seconds=rng.randint(300, days * 86_400))
                member = rng.choice(ids) if ids and rng.random() >= 0.05 else None
                lines = [self._random_line() for _ in range(rng.choice((1, 1, 2, 3)))]
                sale = self.add_transaction(member, items=lines, completed=done)
                counts["transactions"] += 1
                later = min(now, done + timedelta(days=rng.randint(0, 5), hours=1))
                total = sale["cart"]["total"]
                roll = rng.random()
                if roll < 0.03:
                    self.add_refund_transaction(sale["id"], money(total / 2), when=later)
                    counts["refund_transactions"] += 1
                elif roll < 0.06:
                    amount = total if rng.random() < 0.5 else money(total / 3)
                    self.refund_original(sale["id"], amount, when=later)
                    counts["refund_status"] += 1
                elif roll < 0.08:
                    self.refund_items(sale["id"], [0], set_status=rng.random() < 0.5, when=later)
                    counts["refund_items"] += 1
                elif roll < 0.10:
                    self.void(sale["id"], when=later)
                    counts["voids"] += 1
            return counts

    # -- HTTP --------------------------------------------------------------------------------
    def routes(self) -> list[Route]:
        return [
            Route("/api/v1/partner/store", self.endpoint(self._store), methods=["GET"]),
            Route("/api/v1/partner/members", self.endpoint(self._members), methods=["GET"]),
            Route(
                "/api/v1/partner/transactions", self.endpoint(self._transactions), methods=["GET"]
            ),
        ]

    def _check_auth(self, call: Call) -> None:
        if call.headers.get("partner_key") != self.partner_key:
            raise HttpError(401, _error("Invalid partner key.", kind="Unauthorized"))
        if call.headers.get("authorization") != self.dispensary_key:
            raise HttpError(401, _error("Invalid dispensary key.", kind="Unauthorized"))

    def _store(self, call: Call) -> Response:
        self._check_auth(call)
        return JSONResponse(
            {
                "shop": copy_json(self.shop),
                "contract": None,
                "toleranceMap": {},
                "companyLogoURL": None,
            }
        )

    def _page(
        self,
        call: Call,
        kept: list[dict[str, Any]],
        *,
        cap: int,
        descending: bool,
    ) -> Response:
        skip = _count(call, "skip", 0)
        limit = min(_count(call, "limit", cap), cap)
        kept.sort(key=lambda r: (r["modified"], r["id"]), reverse=descending)
        values = copy_json(kept[skip : skip + limit])
        return self.list_response(
            {"values": values, "skip": skip, "limit": limit, "total": len(kept)}
        )

    def _members(self, call: Call) -> Response:
        self._check_auth(call)
        start = _ms_param(call, "startDate")
        end = _ms_param(call, "endDate")
        kept = [
            r
            for r in self.members.values()
            if (start is None or r["modified"] >= start) and (end is None or r["modified"] <= end)
        ]
        return self._page(call, kept, cap=self.max_limit, descending=self.members_order == "desc")

    def _transactions(self, call: Call) -> Response:
        self._check_auth(call)
        start = self._bound(call, "startDate")
        end = self._bound(call, "endDate")
        lower = None if start is None else _midnight(start, self.date_zone)
        upper: datetime | None = None
        upper_inclusive = self.end_inclusive
        if isinstance(end, date) and not isinstance(end, datetime):
            upper = _midnight(
                end + timedelta(days=1) if self.end_inclusive else end, self.date_zone
            )
            upper_inclusive = False
        elif end is not None:
            upper = end
        if lower is not None and upper is not None and upper < lower:
            raise HttpError(400, _error("endDate must not be before startDate", field="endDate"))
        if self.max_window_days is not None and start is not None:
            reach = _midnight(end, self.date_zone) if end is not None else self.now()
            if reach - _midnight(start, self.date_zone) > timedelta(days=self.max_window_days):
                raise HttpError(
                    400,
                    _error(
                        f"The date range cannot exceed {self.max_window_days:g} days",
                        field="endDate",
                    ),
                )
        kept = []
        for record in self.transactions.values():
            modified = from_epoch_ms(record["modified"])
            if lower is not None and modified < lower:
                continue
            if upper is not None and (modified > upper if upper_inclusive else modified >= upper):
                continue
            kept.append(record)
        return self._page(
            call,
            kept,
            cap=self.max_transaction_limit,
            descending=self.transactions_order == "desc",
        )

    def _bound(self, call: Call, name: str) -> date | datetime | None:
        """A transactions ``startDate``/``endDate`` in the format ``transaction_dates`` names:
        a ``date`` (a day, read in ``date_zone``) or an aware ``datetime``."""
        raw = call.query.get(name)
        if raw in (None, ""):
            return None
        if self.transaction_dates == "us_date":
            if US_DATE.match(raw):
                try:
                    return datetime.strptime(raw, "%m/%d/%Y").date()
                except ValueError:
                    pass
            raise HttpError(
                400, _error(f"{name} must be a date MM/dd/yyyy, got {raw!r}", field=name)
            )
        if self.transaction_dates == "epoch_ms":
            value = _ms_param(call, name)
            return None if value is None else from_epoch_ms(value)
        if ISO_DATE.match(raw):
            try:
                return date.fromisoformat(raw)
            except ValueError:
                pass
        elif ISO_STAMP.match(raw):
            try:
                stamp = datetime.fromisoformat(raw)
            except ValueError:
                pass
            else:
                return stamp if stamp.tzinfo else stamp.replace(tzinfo=self.date_zone)
        raise HttpError(400, _error(f"{name} must be an ISO-8601 date, got {raw!r}", field=name))


def _midnight(value: date | datetime, zone: ZoneInfo) -> datetime:
    """A day's start in ``zone`` (an aware datetime passes through)."""
    if isinstance(value, datetime):
        return value
    return datetime.combine(value, time(0), tzinfo=zone)


def _ms_param(call: Call, name: str) -> int | None:
    raw = call.query.get(name)
    if raw in (None, ""):
        return None
    if not raw.lstrip("-").isdigit():
        raise HttpError(400, _error(f"{name} must be epoch milliseconds, got {raw!r}", field=name))
    return int(raw)


def _count(call: Call, name: str, default: int) -> int:
    raw = call.query.get(name)
    if raw in (None, ""):
        return default
    if not raw.isdigit():
        raise HttpError(400, _error(f"{name} must be a non-negative integer", field=name))
    return int(raw)
