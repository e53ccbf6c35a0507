"""POS JSON records → canonical source records, by the description's ``fields``.

What the description knows about the *source* is applied here, nothing more:

- among several candidate paths of a field, the first value usable for that field wins
  (a junk ``cellPhone`` such as ``"0"`` or ``"(555) 123-4567"`` does not hide a good
  ``phone``: domain.md §4.1);
- a time written without an offset is made explicit in the zone the API writes it in
  (the field's ``timezone``, e.g. UTC for Dutchie's ``…UTC`` fields, else the POS's);
- amounts in cents (``amounts = "cents"``) become dollars;
- ids unique only per store are prefixed with the store, org-wide customer ids are put
  in the POS's shared id space.

Refunds come in three shapes (see :class:`adapters.pos.spec.RefundSpec`); each becomes a
:class:`RefundRecord` with a stable id, so reading a changed original again never emits
the same money twice:

- a separate return transaction: its own id;
- a refunded total on the original: ``<order>:refunded:<total>``, carried as a
  *cumulative* refund (the planner sends the difference from what was sent before);
- a voided original: ``<order>:void``, the remainder of what was delivered;
- refunded line items: ``<order>:item:<item id>``.
"""

from __future__ import annotations

from datetime import UTC
from decimal import Decimal, InvalidOperation
from typing import Any

from adapters.pos.spec import FieldSpec, PosSpec, RefundSpec, StreamSpec, Transform
from adapters.pos.values import Usable, dig, field, matches, scale, text
from adapters.records import (
    CustomerRecord,
    LineItem,
    LocationRecord,
    OrderRecord,
    Origin,
    RefundRecord,
    SourceRecord,
)
from connector.errors import InvalidRecord
from connector.mapping.email import normalize_email
from connector.mapping.phone import normalize_phone
from connector.mapping.timestamps import parse_timestamp

NOT_COMPLETED = "not_completed"
"""The status of an order the description's ``completed_when`` does not match."""
TIME_FIELDS = frozenset({"updated_at", "completed_at", "opt_in_at"})
AMOUNT_FIELDS = frozenset({"total"})


def usable_phone(region: str) -> Usable:
    def usable(value: str) -> bool:
        try:
            normalize_phone(value, region)
        except InvalidRecord:
            return False
        return True
    return usable


def usable_email(value: str) -> bool:
    try:
        return normalize_email(value) is not None
    except InvalidRecord:
        return False


def usable_time(value: str) -> bool:
    try:
        return parse_timestamp(value, field="time") is not None
    except (InvalidRecord, ValueError):
        return False


def usable_amount(value: str) -> bool:
    try:
        return Decimal(value.replace(",", "").replace("$", "")).is_finite()
    except InvalidOperation:
        return False


def org_id_space(spec: PosSpec) -> str:
    """The id space an org-wide customer list shares between that POS's sources."""
    return f"org:{spec.name}"


class RecordMapper:
    def __init__(self, spec: PosSpec, source: str, variables: dict[str, str], *,
                 zone: str, phone_region: str = "US") -> None:
        """``zone``: the POS's local zone (its times without an offset are in it)."""
        self.spec = spec
        self.source = source
        self.variables = variables
        self.zone = zone
        self.namespace = variables.get("location") if spec.namespace_ids else None
        self._usable: dict[str, Usable] = {
            "phone": usable_phone(phone_region), "email": usable_email,
            **{name: usable_time for name in TIME_FIELDS},
            **{name: usable_amount for name in AMOUNT_FIELDS}}
        customers = spec.streams.get("customers")
        self.customer_space = (org_id_space(spec) if customers is not None
                               and customers.scope == "org" else None)
        self.totals: list[str] = []
        """Order totals read (dollars text), for the run's sanity check."""

    # -- values ---------------------------------------------------------------------
    def _f(self, stream: StreamSpec, record: Any, name: str) -> str | None:
        spec = stream.fields.get(name)
        value = field(record, spec, self.spec.sentinels, self._usable.get(name))
        if value is None and name in stream.constants:
            return stream.constants[name].format(**self.variables)
        if value is None:
            return None
        if name in TIME_FIELDS:
            return self.explicit_time(value, spec)
        if name in AMOUNT_FIELDS:
            return self.dollars(stream, value, spec)
        return value

    def explicit_time(self, value: str, spec: FieldSpec | None) -> str:
        """A time without an offset, made explicit (ISO with ``+00:00``) in the zone the
        API writes this field in; anything unreadable is left for the mapping layer to
        reject with the field named."""
        zone = (spec.timezone if isinstance(spec, Transform) else None) or self.zone
        try:
            moment = parse_timestamp(value, field="time", tz=zone)
        except (InvalidRecord, ValueError):
            return value
        return value if moment is None else moment.astimezone(UTC).isoformat()

    def dollars(self, stream: StreamSpec, value: str, spec: FieldSpec | None) -> str:
        already = isinstance(spec, Transform) and spec.cents
        if stream.amounts == "cents" and not already:
            return scale(value, cents=True)
        return value

    def _id(self, value: str | None) -> str | None:
        if value is None or value == "0":  # "0" is how several POS say "no id"
            return None
        return f"{self.namespace}:{value}" if self.namespace else value

    def _customer_ref(self, value: str | None) -> str | None:
        """An org-wide customer id is the same in every store: never namespaced."""
        return (value if value != "0" else None) if self.customer_space else self._id(value)

    def _origin(self, stream_name: str, label: str, key: str | None) -> Origin:
        return Origin(source=self.source, stream=stream_name, locator=f"{label} {key}")

    def _raw(self, record: Any) -> dict[str, str]:
        if not isinstance(record, dict):
            return {}
        return {k: v for k, v in ((k, text(v)) for k, v in record.items()) if v is not None}

    # -- records --------------------------------------------------------------------
    def records(self, name: str, stream: StreamSpec, record: Any) -> list[SourceRecord]:
        if name == "customers":
            return [self.customer(stream, record)]
        if name == "locations":
            return [self.location(stream, record)]
        return self.order(stream, record)

    def customer(self, stream: StreamSpec, record: Any) -> CustomerRecord:
        key = self._customer_ref(self._f(stream, record, "customer_id"))
        first, last = self._f(stream, record, "first_name"), self._f(stream, record, "last_name")
        full = self._f(stream, record, "full_name")
        if full and not (first or last):
            first, _, last = full.partition(" ")
        consent = stream.consent_source
        return CustomerRecord(
            origin=self._origin("customers", "customer", key), customer_id=key,
            phone=self._f(stream, record, "phone"), email=self._f(stream, record, "email"),
            first_name=first, last_name=last or None,
            sms_opt_in=self._f(stream, record, "sms_opt_in"),
            email_opt_in=self._f(stream, record, "email_opt_in"),
            opt_in_source=consent, opt_in_at=self._f(stream, record, "opt_in_at"),
            store_id=self._f(stream, record, "store_id"),
            updated_at=self._f(stream, record, "updated_at"), raw=self._raw(record),
            id_space=self.customer_space, erased=matches(record, stream.erased_when))

    def location(self, stream: StreamSpec, record: Any) -> LocationRecord:
        values = {name: self._f(stream, record, name) for name in (
            "store_id", "name", "nickname", "address1", "address2", "city", "state", "zip",
            "country", "phone", "email", "contact_name", "is_default")}
        return LocationRecord(origin=self._origin("locations", "location",
                                                  values["store_id"]),
                              raw=self._raw(record), **values)

    def order(self, stream: StreamSpec, record: Any) -> list[SourceRecord]:
        order_id = self._id(self._f(stream, record, "order_id"))
        for refund in stream.refunds:
            if refund.shape == "separate" and matches(record, refund.when):
                return [self._separate_refund(stream, refund, record, order_id)]
        status = "void" if matches(record, stream.skip_when) else (
            NOT_COMPLETED if stream.completed_when
            and not matches(record, stream.completed_when) else (
                self._f(stream, record, "status") or "completed"))
        items: tuple[LineItem, ...] = ()
        if stream.items is not None:
            found = dig(record, stream.items.path)
            items = tuple(LineItem(sku=field(i, stream.items.sku) or "",
                                   qty=field(i, stream.items.qty) or "")
                          for i in (found if isinstance(found, list) else []))
        total = self._f(stream, record, "total")
        if total is not None and status != "void":
            self.totals.append(total)
        found_records: list[SourceRecord] = [OrderRecord(
            origin=self._origin("orders", "order", order_id), order_id=order_id,
            customer_id=self._customer_ref(self._f(stream, record, "customer_id")),
            phone=self._f(stream, record, "phone"),
            store_id=self._f(stream, record, "store_id"),
            completed_at=self._f(stream, record, "completed_at"),
            total=total, items=items, status=status, raw=self._raw(record),
            customer_id_space=self.customer_space)]
        if status == "void" and order_id is not None:
            found_records.append(RefundRecord(
                origin=self._origin("orders", "refund", f"{order_id} (void)"),
                refund_id=f"{order_id}:void", order_id=order_id, remainder=True,
                raw=self._raw(record)))
        for refund in stream.refunds:
            if refund.shape == "status":
                found_records.extend(self._status_refunds(stream, refund, record, order_id))
            elif refund.shape == "items":
                found_records.extend(self._item_refunds(stream, refund, record, order_id))
        return found_records

    def _amount(self, stream: StreamSpec, record: Any, spec: FieldSpec) -> str | None:
        value = field(record, spec, self.spec.sentinels, usable_amount)
        return None if value is None else _absolute(self.dollars(stream, value, spec))

    def _when(self, refund: RefundSpec, record: Any) -> str | None:
        if refund.refunded_at is None:
            return None
        value = field(record, refund.refunded_at, self.spec.sentinels, usable_time)
        return None if value is None else self.explicit_time(value, refund.refunded_at)

    def _separate_refund(self, stream: StreamSpec, refund: RefundSpec, record: Any,
                         own_id: str | None) -> RefundRecord:
        original = self._id(field(record, refund.original, self.spec.sentinels))
        return RefundRecord(
            origin=self._origin("orders", "refund", own_id), refund_id=own_id,
            order_id=original,
            refunded_at=self._when(refund, record) or self._f(stream, record, "completed_at"),
            amount=self._amount(stream, record, refund.amount), raw=self._raw(record))

    def _status_refunds(self, stream: StreamSpec, refund: RefundSpec, record: Any,
                        order_id: str | None) -> list[SourceRecord]:
        if not matches(record, refund.when):
            return []
        total = self._amount(stream, record, refund.amount)
        return [RefundRecord(
            origin=self._origin("orders", "refund", f"{order_id} (refunded total)"),
            refund_id=f"{order_id}:refunded:{total}", order_id=order_id,
            refunded_at=self._when(refund, record), amount=total, cumulative=True,
            raw=self._raw(record))]

    def _item_refunds(self, stream: StreamSpec, refund: RefundSpec, record: Any,
                      order_id: str | None) -> list[SourceRecord]:
        found: list[SourceRecord] = []
        items = dig(record, refund.items or "items")
        for item in items if isinstance(items, list) else []:
            if not matches(item, refund.when):
                continue
            item_id = field(item, refund.id)
            found.append(RefundRecord(
                origin=self._origin("orders", "refund", f"{order_id} item {item_id}"),
                refund_id=f"{order_id}:item:{item_id}", order_id=order_id,
                refunded_at=self._when(refund, record),
                amount=self._amount(stream, item, refund.amount), raw=self._raw(item)))
        return found


def _absolute(value: str | None) -> str | None:
    return value[1:] if value is not None and value.startswith("-") else value

