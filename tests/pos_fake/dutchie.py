"""``DutchiePos``: the Dutchie POS API (formerly LeafLogix) for one location.

Real paths and shapes from domain.md §1.1 and the samples ``dutchie_pos_customer.sample.json``
/ ``dutchie_pos_transaction.sample.json``: HTTP Basic with the location key, ``/whoami`` in
PascalCase, customers paged with ``PageNumber``/``PageSize`` as bare arrays, transactions as
one bare array per window, returns as separate negative transactions, voids flipped on the
original. One fake = one location key (serve several fakes for several locations).
"""

from __future__ import annotations

import hashlib
import random
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.pos_fake.common import (
    Call,
    HttpError,
    PosFake,
    basic_credentials,
    copy_json,
    copy_record,
    lower_query,
    money,
    parse_iso,
)
from tests.pos_fake.data import PHONE_STYLES, People, Person

SENTINEL = "1900-01-01T00:00:00"
"""Dutchie's "no date" (``lastModifiedDateUTC``, ``dateOfBirth``, ``mmjidExpirationDate``…)."""
UNAUTHORIZED = {"message": "Authorization has been denied for this request."}
TAX_RATE = 0.205
ModifiedFormat = Literal["iso", "us", "sentinel"]
CATALOGUE = (
    (777, "Cartridge 0.5g", 40.0),
    (778, "Flower 3.5g", 35.0),
    (779, "Gummies 100mg", 22.0),
    (780, "Pre-Roll 1g", 12.0),
    (781, "Tincture 30ml", 48.0),
)


def _iso(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%S")


def _iso_z(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def format_modified(value: datetime, style: ModifiedFormat) -> str:
    """``lastModifiedDateUTC`` as served: ``iso`` ``2026-05-01T18:22:15`` (UTC, no zone),
    ``us`` ``05/01/2026 18:22:15``, or the ``sentinel`` ``1900-01-01T00:00:00``."""
    if style == "sentinel":
        return SENTINEL
    if style == "us":
        return value.strftime("%m/%d/%Y %H:%M:%S")
    return _iso(value)


def _whole(value: datetime) -> datetime:
    return value.replace(microsecond=0)


class DutchiePos(PosFake):
    """One Dutchie location. See README.md § DutchiePos."""

    def __init__(
        self,
        *,
        location_key: str = "dutchie-location-key",
        integrator_key: str | None = None,
        location_id: int = 4211,
        location_name: str = "Example Dispensary - Downtown",
        company_id: int = 917,
        company_name: str = "Example Cannabis Co",
        timezone: str = "America/Denver",
        state: str = "CO",
        max_page_size: int = 100,
        max_window_hours: float | None = None,
        now: datetime | None = None,
        seed: int = 0,
    ) -> None:
        super().__init__(now=now)
        self.location_key = location_key
        self.integrator_key = integrator_key
        self.location_id = location_id
        self.location_name = location_name
        self.company_id = company_id
        self.company_name = company_name
        self.tz = ZoneInfo(timezone)
        self.max_page_size = max_page_size
        self.max_window_hours = max_window_hours
        self.rng = random.Random(seed)
        self.people = People(self.rng, state)
        self.customers: dict[int, dict[str, Any]] = {}
        """customerId → record as served (the fake's own copy)."""
        self.transactions: dict[int, dict[str, Any]] = {}
        """transactionId → record as served (with items)."""
        self.customer_modified: dict[int, datetime] = {}
        """customerId → the real modification time the filter uses (whatever is displayed)."""
        self.transaction_modified: dict[int, datetime] = {}
        self._next_customer = 1_000_001
        self._next_transaction = 5_000_001
        self._next_item = 9_000_001

    # -- customers ---------------------------------------------------------------------------
    def add_customer(
        self,
        *,
        modified: datetime | None = None,
        modified_format: ModifiedFormat = "iso",
        person: Person | None = None,
        **fields: Any,
    ) -> dict[str, Any]:
        """Add a customer; ``fields`` (camelCase, as served) override the generated ones;
        ``person`` supplies name/phone/email/address (default: a new synthetic person).

        ``modified`` (default now) is the time the ``fromLastModifiedDateUTC`` filter sees;
        ``modified_format`` is how ``lastModifiedDateUTC`` is *displayed* (``iso``, ``us``
        or ``sentinel`` — the filter still uses ``modified``)."""
        with self.lock:
            now = _whole(self.now())
            when = _whole(modified) if modified is not None else now
            customer_id = int(fields.pop("customerId", self._next_customer))
            self._next_customer = max(self._next_customer, customer_id + 1)
            person = person or self.people.next()
            created = min(when, now) - timedelta(days=self.rng.randint(1, 700))
            birth = datetime(self.rng.randint(1955, 2003), self.rng.randint(1, 12), 1)
            record: dict[str, Any] = {
                "customerId": customer_id,
                "uniqueId": str(uuid.UUID(int=self.rng.getrandbits(128), version=4)),
                "firstName": person.first,
                "lastName": person.last,
                "middleName": None,
                "namePrefix": None,
                "nameSuffix": None,
                "address1": person.street,
                "address2": None,
                "city": person.city,
                "state": person.state,
                "postalCode": person.zip,
                "phone": person.phone("paren"),
                "cellPhone": person.phone("digits"),
                "emailAddress": person.email,
                "status": "Active",
                "mmjidNumber": None,
                "mmjidExpirationDate": SENTINEL,
                "customerType": "Recreational",
                "gender": self.rng.choice(("M", "F", "U")),
                "dateOfBirth": _iso(birth),
                "notes": None,
                "customIdentifier": None,
                "isLoyaltyMember": False,
                "isAnonymous": False,
                "lastTransactionDate": None,
                "creationDate": _iso(created),
                "lastModifiedDateUTC": format_modified(when, modified_format),
                "loyaltyRegistrationDate": None,
                "discountGroups": [],
                "primaryQualifyingCondition": None,
                "secondaryQualifyingConditions": [],
                "referralSource": "Walk In",
                "otherReferralSource": None,
                "springBigMemberId": "0",
                "driversLicenseHash": hashlib.sha256(person.email.encode()).hexdigest(),
                "externalCustomerId": None,
                "createdByIntegrator": None,
                "createdAtLocation": self.location_name,
                "mergedIntoCustomerId": None,
            }
            record.update(copy_json(fields))
            self.customers[customer_id] = record
            self.customer_modified[customer_id] = when
            return copy_record(record)

    def update_customer(
        self,
        customer_id: int,
        *,
        modified: datetime | None = None,
        modified_format: ModifiedFormat = "iso",
        **fields: Any,
    ) -> dict[str, Any]:
        """Change fields and bump the modification time (default now)."""
        with self.lock:
            record = self.customers[customer_id]
            when = _whole(modified) if modified is not None else _whole(self.now())
            record.update(copy_json(fields))
            record["lastModifiedDateUTC"] = format_modified(when, modified_format)
            self.customer_modified[customer_id] = when
            return copy_record(record)

    # -- transactions ------------------------------------------------------------------------
    def add_transaction(
        self,
        customer_id: int | None = None,
        *,
        items: Sequence[tuple[int, int, float]] | None = None,
        transaction_date: datetime | None = None,
        modified: datetime | None = None,
        **fields: Any,
    ) -> dict[str, Any]:
        """A completed retail sale. ``items``: ``(productId, quantity, unitPrice)``
        (default one random product). Totals: subtotal + 20.5 % tax."""
        with self.lock:
            now = _whole(self.now())
            date = _whole(transaction_date) if transaction_date is not None else now
            when = _whole(modified) if modified is not None else date + timedelta(seconds=5)
            lines = list(items) if items is not None else [self._random_line()]
            transaction_id = int(fields.pop("transactionId", self._next_transaction))
            self._next_transaction = max(self._next_transaction, transaction_id + 1)
            item_records = [self._item(transaction_id, *line) for line in lines]
            subtotal = money(sum(item["totalPrice"] for item in item_records))
            record = self._transaction(transaction_id, customer_id, date, when, subtotal)
            record["items"] = item_records
            record["totalItems"] = sum(quantity for _, quantity, _ in lines)
            record.update(copy_json(fields))
            self.transactions[transaction_id] = record
            self.transaction_modified[transaction_id] = when
            if customer_id in self.customers:
                self.customers[customer_id]["lastTransactionDate"] = _iso(date.astimezone(self.tz))
            return copy_record(record)

    def add_return(
        self,
        original_id: int,
        amount: float | str,
        *,
        reason: str = "Customer return",
        when: datetime | None = None,
    ) -> dict[str, Any]:
        """A return: a SEPARATE transaction with ``isReturn: true``, negative totals
        (``total == -amount``, tax included) and ``returnOnTransactionId`` → the original.
        The original's first not-yet-returned item gets ``isReturned``,
        ``returnedByTransactionId``, ``returnDate``, and its ``lastModifiedDateUTC`` moves to
        ``when`` (default now). Returning more than what is left raises ``ValueError``."""
        with self.lock:
            original = self.transactions[original_id]
            if original["isReturn"]:
                raise ValueError(f"{original_id} is itself a return")
            returned = -sum(
                t["total"]
                for t in self.transactions.values()
                if t["returnOnTransactionId"] == original_id
            )
            total = money(amount)
            if total <= 0 or total > money(original["total"] - returned) + 0.001:
                raise ValueError(
                    f"cannot return {total} of {original['total']} (already {returned})"
                )
            stamp = _whole(when) if when is not None else _whole(self.now())
            return_id = self._next_transaction
            self._next_transaction += 1
            subtotal = -money(total / (1 + TAX_RATE))
            record = self._transaction(
                return_id, original["customerId"], stamp, stamp, subtotal, total=-total
            )
            source = next(
                (i for i in original["items"] if not i["isReturned"]), original["items"][0]
            )
            item = self._item(return_id, source["productId"], 1, source["unitPrice"])
            item.update(totalPrice=subtotal, packageId=source["packageId"], returnReason=reason)
            record.update(
                isReturn=True,
                returnOnTransactionId=original_id,
                items=[item],
                totalItems=1,
                loyaltyEarned=subtotal,
            )
            source.update(
                isReturned=True, returnedByTransactionId=return_id, returnDate=_iso_z(stamp)
            )
            original["lastModifiedDateUTC"] = _iso_z(stamp)
            self.transaction_modified[original_id] = stamp
            self.transactions[return_id] = record
            self.transaction_modified[return_id] = stamp
            return copy_record(record)

    def void(self, transaction_id: int, *, when: datetime | None = None) -> dict[str, Any]:
        """Void: the original gets ``isVoid: true``, ``voidDate`` and a new
        ``lastModifiedDateUTC`` (no new transaction)."""
        with self.lock:
            record = self.transactions[transaction_id]
            stamp = _whole(when) if when is not None else _whole(self.now())
            record.update(isVoid=True, voidDate=_iso_z(stamp), lastModifiedDateUTC=_iso_z(stamp))
            self.transaction_modified[transaction_id] = stamp
            return copy_record(record)

    def _random_line(self) -> tuple[int, int, float]:
        product, _, price = self.rng.choice(CATALOGUE)
        return product, self.rng.choice((1, 1, 1, 2)), price

    def _item(
        self, transaction_id: int, product_id: int, quantity: int, unit_price: float
    ) -> dict[str, Any]:
        item_id = self._next_item
        self._next_item += 1
        return {
            "transactionItemId": item_id,
            "transactionId": transaction_id,
            "productId": product_id,
            "quantity": quantity,
            "unitPrice": money(unit_price),
            "totalPrice": money(quantity * unit_price),
            "totalDiscount": 0.0,
            "packageId": f"1A40{product_id:010d}{item_id % 10**10:010d}",
            "isReturned": False,
            "returnedByTransactionId": None,
            "returnReason": None,
            "returnDate": None,
            "isCoupon": False,
        }

    def _transaction(
        self,
        transaction_id: int,
        customer_id: int | None,
        date: datetime,
        modified: datetime,
        subtotal: float,
        *,
        total: float | None = None,
    ) -> dict[str, Any]:
        tax = money(subtotal * TAX_RATE) if total is None else money(total - subtotal)
        grand = money(subtotal + tax) if total is None else total
        return {
            "transactionId": transaction_id,
            "customerId": customer_id,
            "employeeId": 42,
            "transactionDate": _iso_z(date),
            "transactionDateLocalTime": _iso(date.astimezone(self.tz)),
            "lastModifiedDateUTC": _iso_z(modified),
            "voidDate": None,
            "isVoid": False,
            "isReturn": False,
            "returnOnTransactionId": None,
            "adjustmentForTransactionId": None,
            "transactionType": "Retail",
            "orderType": "In Store",
            "orderSource": "POS",
            "orderMethod": "Walk In",
            "wasPreOrdered": False,
            "isMedical": False,
            "customerTypeId": 2,
            "subtotal": subtotal,
            "totalDiscount": 0.0,
            "totalBeforeTax": subtotal,
            "tax": tax,
            "total": grand,
            "paid": grand,
            "changeDue": 0.0,
            "totalItems": 0,
            "loyaltyEarned": float(int(subtotal)),
            "loyaltySpent": 0.0,
            "terminalName": "Register 1",
            "invoiceNumber": f"INV-{transaction_id % 1_000_000:06d}",
            "globalId": str(uuid.UUID(int=self.rng.getrandbits(128), version=4)),
            "referenceId": None,
            "orderIds": [],
            "items": [],
            "discounts": [],
            "taxSummary": [
                {"rateName": "State Excise", "amount": money(tax * 0.73)},
                {"rateName": "Sales Tax", "amount": money(tax - money(tax * 0.73))},
            ],
        }

    # -- bulk data ---------------------------------------------------------------------------
    def generate(
        self, n_customers: int, n_orders: int, seed: int = 0, *, days: int = 90
    ) -> dict[str, int]:
        """Realistic messy data: customers with phones in varied formats, ~25 % of
        ``lastModifiedDateUTC`` in ``MM/DD/YYYY HH:MM:SS``, ~5 % the 1900 sentinel, some
        ``"N/A"`` strings, ``springBigMemberId`` mostly ``"0"``, two anonymous customers;
        ``n_orders`` sales over the last ``days`` days, ~6 % returned (partly or fully), ~2 %
        voided. Returns counts."""
        with self.lock:
            rng = self.rng = random.Random(seed)
            self.people.rng = rng
            now = _whole(self.now())
            counts = {"customers": 0, "anonymous": 0, "transactions": 0, "returns": 0, "voids": 0}
            ids: list[int] = []
            for index in range(n_customers):
                anonymous = n_customers >= 20 and index < 2
                modified = now - timedelta(seconds=rng.randint(0, days * 86_400))
                style: ModifiedFormat = rng.choices(("iso", "us", "sentinel"), (70, 25, 5))[0]
                person = self.people.next()
                phone = person.phone(rng.choice(PHONE_STYLES))
                extra: dict[str, Any] = {
                    "phone": phone,
                    "cellPhone": rng.choice((person.phone("digits"), None, phone, "")),
                }
                if rng.random() < 0.04:
                    extra["phone"] = "N/A"
                if rng.random() < 0.05:
                    extra["emailAddress"] = "N/A"
                elif rng.random() < 0.08:
                    extra["emailAddress"] = None
                extra["address2"] = rng.choice(("N/A", None, None, "Apt 4"))
                if rng.random() < 0.05:
                    extra["dateOfBirth"] = SENTINEL
                extra["isLoyaltyMember"] = rng.random() < 0.6
                extra["springBigMemberId"] = rng.choices(
                    ("0", str(rng.randint(100_000, 999_999)), 0), (75, 20, 5)
                )[0]
                extra["customerType"] = rng.choices(("Recreational", "Medical"), (85, 15))[0]
                extra["discountGroups"] = rng.choice(([], [], ["Veteran"], ["Industry"]))
                if anonymous:
                    extra.update(
                        firstName="Anonymous",
                        lastName="Customer",
                        phone=None,
                        cellPhone=None,
                        emailAddress=None,
                        isAnonymous=True,
                        isLoyaltyMember=False,
                        address1=None,
                        address2=None,
                    )
                    counts["anonymous"] += 1
                record = self.add_customer(
                    modified=modified, modified_format=style, person=person, **extra
                )
                if record["isLoyaltyMember"]:
                    self.customers[record["customerId"]]["loyaltyRegistrationDate"] = record[
                        "creationDate"
                    ]
                ids.append(record["customerId"])
                counts["customers"] += 1
            for _ in range(n_orders):
                if not ids:
                    break
                date = now - timedelta(seconds=rng.randint(60, days * 86_400))
                lines = [self._random_line() for _ in range(rng.choice((1, 1, 2, 3)))]
                sale = self.add_transaction(rng.choice(ids), items=lines, transaction_date=date)
                counts["transactions"] += 1
                roll = rng.random()
                later = min(now, date + timedelta(days=rng.randint(0, 7), hours=1))
                if roll < 0.06:
                    full = rng.random() < 0.5
                    amount = sale["total"] if full else money(sale["total"] / 2)
                    self.add_return(sale["transactionId"], amount, when=later)
                    counts["returns"] += 1
                elif roll < 0.08:
                    self.void(sale["transactionId"], when=later)
                    counts["voids"] += 1
            return counts

    # -- HTTP --------------------------------------------------------------------------------
    def routes(self) -> list[Route]:
        return [
            Route("/whoami", self.endpoint(self._whoami), methods=["GET"]),
            Route("/customer/customers-paginated", self.endpoint(self._customers), methods=["GET"]),
            Route("/reporting/transactions", self.endpoint(self._transactions), methods=["GET"]),
        ]

    @property
    def basic_auth(self) -> tuple[str, str]:
        """``(location_key, "")`` — what a client sends as HTTP Basic."""
        return (self.location_key, "")

    def _check_auth(self, call: Call) -> None:
        credentials = basic_credentials(call)
        allowed = {""} | ({self.integrator_key} if self.integrator_key else set())
        if (
            credentials is None
            or credentials[0] != self.location_key
            or (credentials[1] not in allowed)
        ):
            raise HttpError(401, UNAUTHORIZED, {"WWW-Authenticate": 'Basic realm="api"'})

    def _whoami(self, call: Call) -> Response:
        self._check_auth(call)
        return JSONResponse(
            {
                "LocationName": self.location_name,
                "LocationId": self.location_id,
                "CompanyName": self.company_name,
                "CompanyId": self.company_id,
            }
        )

    def _customers(self, call: Call) -> Response:
        self._check_auth(call)
        query = lower_query(call)
        page = _int(query, "pagenumber", 1)
        size = _int(query, "pagesize", self.max_page_size)
        if page < 1:
            raise HttpError(400, {"message": "PageNumber must be 1 or greater."})
        if not 1 <= size <= self.max_page_size:
            raise HttpError(
                400, {"message": f"PageSize must be between 1 and {self.max_page_size}."}
            )
        since = _time(query, "fromlastmodifieddateutc")
        rows = [
            record
            for customer_id, record in sorted(self.customers.items())
            if since is None or self.customer_modified[customer_id] >= since
        ]
        start = (page - 1) * size
        return self.list_response(copy_json(rows[start : start + size]))

    def _transactions(self, call: Call) -> Response:
        self._check_auth(call)
        query = lower_query(call)
        groups = {
            "TransactionId": "transactionid" in query,
            "FromDateUTC/ToDateUTC": "fromdateutc" in query or "todateutc" in query,
            "FromLastModifiedDateUTC/ToLastModifiedDateUTC": (
                "fromlastmodifieddateutc" in query or "tolastmodifieddateutc" in query
            ),
        }
        chosen = [name for name, given in groups.items() if given]
        if len(chosen) != 1:
            raise HttpError(
                400,
                {
                    "message": "Specify exactly one of TransactionId, FromDateUTC/ToDateUTC or "
                    "FromLastModifiedDateUTC/ToLastModifiedDateUTC."
                },
            )
        detail = query.get("includedetail", "").lower() == "true"
        if chosen[0] == "TransactionId":
            wanted = _int(query, "transactionid", 0)
            rows = [self.transactions[wanted]] if wanted in self.transactions else []
        else:
            prefix = (
                "fromdateutc" if chosen[0].startswith("FromDate") else "fromlastmodifieddateutc"
            )
            upper_name = prefix.replace("from", "to", 1)
            lower = _time(query, prefix)
            upper = _time(query, upper_name) or _whole(self.now())
            if lower is None:
                raise HttpError(400, {"message": f"{_pretty(prefix)} is required."})
            if lower > upper:
                raise HttpError(400, {"message": "The start date must be before the end date."})
            if self.max_window_hours is not None and upper - lower > timedelta(
                hours=self.max_window_hours
            ):
                raise HttpError(
                    400,
                    {"message": f"The date range cannot exceed {self.max_window_hours:g} hours."},
                )
            rows = []
            for transaction_id, record in sorted(self.transactions.items()):
                stamp = (
                    parse_iso(record["transactionDate"])
                    if prefix == "fromdateutc"
                    else self.transaction_modified[transaction_id]
                )
                if stamp is not None and lower <= stamp <= upper:
                    rows.append(record)
        served = copy_json(rows)
        if not detail:
            for record in served:
                record["items"] = []
        return self.list_response(served)


def _pretty(name: str) -> str:
    return {
        "fromdateutc": "FromDateUTC",
        "fromlastmodifieddateutc": "FromLastModifiedDateUTC",
    }.get(name, name)


def _int(query: dict[str, str], name: str, default: int) -> int:
    raw = query.get(name)
    if raw in (None, ""):
        return default
    try:
        return int(raw)
    except ValueError:
        raise HttpError(400, {"message": f"The value '{raw}' is not valid for {name}."}) from None


def _time(query: dict[str, str], name: str) -> datetime | None:
    raw = query.get(name)
    if raw in (None, ""):
        return None
    parsed = parse_iso(raw)
    if parsed is None:
        raise HttpError(400, {"message": f"The value '{raw}' is not valid for {_pretty(name)}."})
    return parsed
