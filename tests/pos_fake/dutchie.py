"""``DutchiePos``: the Dutchie POS API (formerly LeafLogix), one company, one or more
locations.

Real paths and shapes from domain.md §1.1, the public clients cited in README.md and the samples
``dutchie_pos_customer.sample.json`` / ``dutchie_pos_transaction.sample.json``: HTTP Basic with
a location key (each key is one location), ``/whoami`` in PascalCase, customers paged with
``PageNumber``/``PageSize`` and COMPANY-WIDE (the same list under every key), transactions per
location as one array per window (at most 1440 h by default), returns as separate
transactions, voids flipped on the original. Answers are bare arrays, or wrapped in an
envelope key (``envelope=``), since both are reported.
"""

from __future__ import annotations

import hashlib
import random
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, Literal, NamedTuple
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
UtcStyle = Literal["z", "offset", "naive"]
CATALOGUE = (
    (777, "Cartridge 0.5g", 40.0),
    (778, "Flower 3.5g", 35.0),
    (779, "Gummies 100mg", 22.0),
    (780, "Pre-Roll 1g", 12.0),
    (781, "Tincture 30ml", 48.0),
)


class DutchieLocation(NamedTuple):
    """One location: its API key (the Basic-auth user name), id, name and time zone."""

    key: str
    id: int
    name: str
    timezone: str


def _iso(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%S")


def _iso_z(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def format_utc(value: datetime, style: UtcStyle = "z") -> str:
    """A UTC instant on a transaction: ``z`` ``2026-05-01T18:22:15Z``, ``offset``
    ``2026-05-01T18:22:15+00:00`` (.NET ``DateTimeOffset``), ``naive``
    ``2026-05-01T18:22:15`` (UTC without a zone)."""
    if style == "offset":
        return _iso(value) + "+00:00"
    if style == "naive":
        return _iso(value)
    return _iso_z(value)


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
    """One Dutchie company with one or more locations. See README.md § DutchiePos."""

    def __init__(
        self,
        *,
        location_key: str = "dutchie-location-key",
        integrator_key: str | None = None,
        location_id: int = 4211,
        location_name: str = "Example Dispensary - Downtown",
        locations: Sequence[Sequence[Any]] | None = None,
        company_id: int = 917,
        company_name: str = "Example Cannabis Co",
        timezone: str = "America/Denver",
        state: str = "CO",
        max_page_size: int = 100,
        oversize_page: Literal["reject", "clamp"] = "reject",
        envelope: str = "bare",
        max_window_hours: float | None = 1440,
        utc_style: UtcStyle = "z",
        refund_totals: Literal["negative", "positive"] = "negative",
        now: datetime | None = None,
        seed: int = 0,
    ) -> None:
        super().__init__(now=now)
        if oversize_page not in ("reject", "clamp"):
            raise ValueError(f"oversize_page: {oversize_page!r}")
        if utc_style not in ("z", "offset", "naive"):
            raise ValueError(f"utc_style: {utc_style!r}")
        if refund_totals not in ("negative", "positive"):
            raise ValueError(f"refund_totals: {refund_totals!r}")
        if not envelope:
            raise ValueError("envelope: 'bare' or a key such as 'data'")
        given = (
            list(locations)
            if locations is not None
            else [(location_key, location_id, location_name)]
        )
        if not given:
            raise ValueError("at least one location")
        self.locations: dict[str, DutchieLocation] = {}
        """location key → :class:`DutchieLocation` (the first is the default)."""
        for entry in given:
            key, loc_id, name, *rest = entry
            self.locations[str(key)] = DutchieLocation(
                str(key), int(loc_id), str(name), str(rest[0]) if rest else timezone
            )
        first = next(iter(self.locations.values()))
        self.location_key = first.key
        self.location_id = first.id
        self.location_name = first.name
        self.integrator_key = integrator_key
        self.company_id = company_id
        self.company_name = company_name
        self.tz = ZoneInfo(first.timezone)
        self.max_page_size = max_page_size
        self.oversize_page = oversize_page
        self.envelope = envelope
        self.max_window_hours = max_window_hours
        self.utc_style: UtcStyle = utc_style
        self.refund_totals = refund_totals
        self.rng = random.Random(seed)
        self.people = People(self.rng, state)
        self.customers: dict[int, dict[str, Any]] = {}
        """customerId → record as served (the fake's own copy). Company-wide."""
        self.transactions: dict[int, dict[str, Any]] = {}
        """transactionId → record as served (with items). Ids are unique company-wide."""
        self.transaction_location: dict[int, str] = {}
        """transactionId → the key of the location it belongs to."""
        self.customer_modified: dict[int, datetime] = {}
        """customerId → the real modification time the filter uses (whatever is displayed)."""
        self.transaction_modified: dict[int, datetime] = {}
        self.transaction_dates: dict[int, datetime] = {}
        """transactionId → ``transactionDate`` as an instant (what ``FromDateUTC`` sees)."""
        self._next_customer = 1_000_001
        self._next_transaction = 5_000_001
        self._next_item = 9_000_001

    def _location(self, location_key: str | None) -> DutchieLocation:
        if location_key is None:
            return next(iter(self.locations.values()))
        return self.locations[location_key]

    def _utc(self, value: datetime) -> str:
        return format_utc(value, self.utc_style)

    # -- customers ---------------------------------------------------------------------------
    def add_customer(
        self,
        *,
        modified: datetime | None = None,
        modified_format: ModifiedFormat = "iso",
        person: Person | None = None,
        location_key: str | None = None,
        **fields: Any,
    ) -> dict[str, Any]:
        """Add a customer (company-wide: served under every location key); ``fields``
        (camelCase, as served) override the generated ones — e.g. ``cellPhone="0"`` beside a
        good ``phone``; ``person`` supplies name/phone/email/address (default: a new synthetic
        person); ``location_key`` (default the first) names ``createdAtLocation``.

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
                "createdAtLocation": self._location(location_key).name,
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
        location_key: str | None = None,
        **fields: Any,
    ) -> dict[str, Any]:
        """A completed retail sale at ``location_key`` (default the first location).
        ``items``: ``(productId, quantity, unitPrice)`` (default one random product).
        Totals: subtotal + 20.5 % tax."""
        with self.lock:
            location = self._location(location_key)
            now = _whole(self.now())
            date = _whole(transaction_date) if transaction_date is not None else now
            when = _whole(modified) if modified is not None else date + timedelta(seconds=5)
            lines = list(items) if items is not None else [self._random_line()]
            transaction_id = int(fields.pop("transactionId", self._next_transaction))
            self._next_transaction = max(self._next_transaction, transaction_id + 1)
            item_records = [self._item(transaction_id, *line) for line in lines]
            subtotal = money(sum(item["totalPrice"] for item in item_records))
            record = self._transaction(transaction_id, customer_id, date, when, subtotal, location)
            record["items"] = item_records
            record["totalItems"] = sum(quantity for _, quantity, _ in lines)
            record.update(copy_json(fields))
            self._store_transaction(record, location, date, when)
            if customer_id in self.customers:
                local = date.astimezone(ZoneInfo(location.timezone))
                self.customers[customer_id]["lastTransactionDate"] = _iso(local)
            return copy_record(record)

    def _store_transaction(
        self, record: dict[str, Any], location: DutchieLocation, date: datetime, when: datetime
    ) -> None:
        transaction_id = record["transactionId"]
        self.transactions[transaction_id] = record
        self.transaction_location[transaction_id] = location.key
        self.transaction_dates[transaction_id] = date
        self.transaction_modified[transaction_id] = when

    def add_return(
        self,
        original_id: int,
        amount: float | str,
        *,
        reason: str = "Customer return",
        when: datetime | None = None,
    ) -> dict[str, Any]:
        """A return at the original's location: a SEPARATE transaction with
        ``isReturn: true`` and ``returnOnTransactionId`` → the original; its totals are
        negative (``total == -amount``, tax included) unless ``refund_totals="positive"``.
        The original's first not-yet-returned item gets ``isReturned``,
        ``returnedByTransactionId``, ``returnDate``, and its ``lastModifiedDateUTC`` moves to
        ``when`` (default now). Returning more than what is left raises ``ValueError``."""
        with self.lock:
            original = self.transactions[original_id]
            if original["isReturn"]:
                raise ValueError(f"{original_id} is itself a return")
            returned = sum(
                abs(t["total"])
                for t in self.transactions.values()
                if t["returnOnTransactionId"] == original_id
            )
            total = money(amount)
            if total <= 0 or total > money(original["total"] - returned) + 0.001:
                raise ValueError(
                    f"cannot return {total} of {original['total']} (already {returned})"
                )
            sign = -1 if self.refund_totals == "negative" else 1
            stamp = _whole(when) if when is not None else _whole(self.now())
            location = self.locations[self.transaction_location[original_id]]
            return_id = self._next_transaction
            self._next_transaction += 1
            subtotal = sign * money(total / (1 + TAX_RATE))
            record = self._transaction(
                return_id,
                original["customerId"],
                stamp,
                stamp,
                subtotal,
                location,
                total=sign * total,
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
                isReturned=True, returnedByTransactionId=return_id, returnDate=self._utc(stamp)
            )
            original["lastModifiedDateUTC"] = self._utc(stamp)
            self.transaction_modified[original_id] = stamp
            self._store_transaction(record, location, stamp, stamp)
            return copy_record(record)

    def void(self, transaction_id: int, *, when: datetime | None = None) -> dict[str, Any]:
        """Void: the original gets ``isVoid: true``, ``voidDate`` and a new
        ``lastModifiedDateUTC`` (no new transaction)."""
        with self.lock:
            record = self.transactions[transaction_id]
            stamp = _whole(when) if when is not None else _whole(self.now())
            record.update(
                isVoid=True, voidDate=self._utc(stamp), lastModifiedDateUTC=self._utc(stamp)
            )
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
        location: DutchieLocation,
        *,
        total: float | None = None,
    ) -> dict[str, Any]:
        tax = money(subtotal * TAX_RATE) if total is None else money(total - subtotal)
        grand = money(subtotal + tax) if total is None else total
        return {
            "transactionId": transaction_id,
            "customerId": customer_id,
            "employeeId": 42,
            "transactionDate": self._utc(date),
            "transactionDateLocalTime": _iso(date.astimezone(ZoneInfo(location.timezone))),
            "lastModifiedDateUTC": self._utc(modified),
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
        ``n_orders`` sales over the last ``days`` days (spread over the locations), ~6 %
        returned (partly or fully), ~2 % voided. Returns counts."""
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
                where = rng.choice(list(self.locations)) if len(self.locations) > 1 else None
                sale = self.add_transaction(
                    rng.choice(ids), items=lines, transaction_date=date, location_key=where
                )
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
        """``(location_key, "")`` of the first location — what a client sends as HTTP Basic."""
        return (self.location_key, "")

    def basic_auth_for(self, location_key: str) -> tuple[str, str]:
        """``(location_key, "")`` for one location (KeyError when unknown)."""
        return (self.locations[location_key].key, "")

    def _check_auth(self, call: Call) -> DutchieLocation:
        credentials = basic_credentials(call)
        allowed = {""} | ({self.integrator_key} if self.integrator_key else set())
        if (
            credentials is None
            or credentials[0] not in self.locations
            or (credentials[1] not in allowed)
        ):
            raise HttpError(401, UNAUTHORIZED, {"WWW-Authenticate": 'Basic realm="api"'})
        return self.locations[credentials[0]]

    def _wrap(self, rows: list[dict[str, Any]]) -> Any:
        return rows if self.envelope == "bare" else {self.envelope: rows}

    def _whoami(self, call: Call) -> Response:
        location = self._check_auth(call)
        return JSONResponse(
            {
                "LocationName": location.name,
                "LocationId": location.id,
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
        if size > self.max_page_size and self.oversize_page == "clamp":
            size = self.max_page_size
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
        return self.list_response(self._wrap(copy_json(rows[start : start + size])))

    def _transactions(self, call: Call) -> Response:
        location = self._check_auth(call)
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
        mine = sorted(
            transaction_id
            for transaction_id, key in self.transaction_location.items()
            if key == location.key
        )
        if chosen[0] == "TransactionId":
            wanted = _int(query, "transactionid", 0)
            rows = [self.transactions[wanted]] if wanted in mine else []
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
            stamps = (
                self.transaction_dates if prefix == "fromdateutc" else self.transaction_modified
            )
            rows = [
                self.transactions[transaction_id]
                for transaction_id in mine
                if lower <= stamps[transaction_id] <= upper
            ]
        served = copy_json(rows)
        if not detail:
            for record in served:
                record["items"] = []
        return self.list_response(self._wrap(served))


def _pretty(name: str) -> str:
    return {
        "fromdateutc": "FromDateUTC",
        "todateutc": "ToDateUTC",
        "fromlastmodifieddateutc": "FromLastModifiedDateUTC",
        "tolastmodifieddateutc": "ToLastModifiedDateUTC",
        "transactionid": "TransactionId",
        "pagenumber": "PageNumber",
        "pagesize": "PageSize",
    }.get(name, name)


def _int(query: dict[str, str], name: str, default: int) -> int:
    raw = query.get(name)
    if raw in (None, ""):
        return default
    try:
        return int(raw)
    except ValueError:
        raise HttpError(
            400, {"message": f"The value '{raw}' is not valid for {_pretty(name)}."}
        ) from None


def _time(query: dict[str, str], name: str) -> datetime | None:
    """An ISO-8601 instant: ``Z`` or an offset, 0-7 fractional digits (.NET's ``"O"`` format
    ``2026-05-01T00:00:00.0000000Z``), naive = UTC, or a bare ``YYYY-MM-DD`` (midnight UTC)."""
    raw = query.get(name)
    if raw in (None, ""):
        return None
    parsed = parse_iso(raw)
    if parsed is None:
        raise HttpError(400, {"message": f"The value '{raw}' is not valid for {_pretty(name)}."})
    return parsed
