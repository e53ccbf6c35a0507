"""POS JSON records → canonical source records, by the description's ``fields``.

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

from typing import Any

from adapters.pos.spec import PosSpec, RefundSpec, StreamSpec
from adapters.pos.values import dig, field, matches, text
from adapters.records import (
    CustomerRecord,
    LineItem,
    LocationRecord,
    OrderRecord,
    Origin,
    RefundRecord,
    SourceRecord,
)


class RecordMapper:
    def __init__(self, spec: PosSpec, source: str, variables: dict[str, str]) -> None:
        self.spec = spec
        self.source = source
        self.variables = variables
        self.namespace = variables.get("location") if spec.namespace_ids else None

    def _f(self, stream: StreamSpec, record: Any, name: str) -> str | None:
        value = field(record, stream.fields.get(name), self.spec.sentinels)
        if value is None and name in stream.constants:
            return stream.constants[name].format(**self.variables)
        return value

    def _id(self, value: str | None) -> str | None:
        if value is None or value == "0":  # "0" is how several POS say "no id"
            return None
        return f"{self.namespace}:{value}" if self.namespace else value

    def _origin(self, stream_name: str, label: str, key: str | None) -> Origin:
        return Origin(source=self.source, stream=stream_name, locator=f"{label} {key}")

    def _raw(self, record: Any) -> dict[str, str]:
        if not isinstance(record, dict):
            return {}
        return {k: v for k, v in ((k, text(v)) for k, v in record.items()) if v is not None}

    def records(self, name: str, stream: StreamSpec, record: Any) -> list[SourceRecord]:
        if name == "customers":
            return [self.customer(stream, record)]
        if name == "locations":
            return [self.location(stream, record)]
        return self.order(stream, record)

    def customer(self, stream: StreamSpec, record: Any) -> CustomerRecord:
        key = self._id(self._f(stream, record, "customer_id"))
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
            updated_at=self._f(stream, record, "updated_at"), raw=self._raw(record))

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
            self._f(stream, record, "status") or "completed")
        items: tuple[LineItem, ...] = ()
        if stream.items is not None:
            found = dig(record, stream.items.path)
            items = tuple(LineItem(sku=field(i, stream.items.sku) or "",
                                   qty=field(i, stream.items.qty) or "")
                          for i in (found if isinstance(found, list) else []))
        found_records: list[SourceRecord] = [OrderRecord(
            origin=self._origin("orders", "order", order_id), order_id=order_id,
            customer_id=self._id(self._f(stream, record, "customer_id")),
            phone=self._f(stream, record, "phone"),
            store_id=self._f(stream, record, "store_id"),
            completed_at=self._f(stream, record, "completed_at"),
            total=self._f(stream, record, "total"), items=items, status=status,
            raw=self._raw(record))]
        if status == "void" and order_id is not None:
            found_records.append(RefundRecord(
                origin=self._origin("orders", "refund", f"{order_id} (void)"),
                refund_id=f"{order_id}:void", order_id=order_id, remainder=True,
                raw=self._raw(record)))
        for refund in stream.refunds:
            if refund.shape == "status":
                found_records.extend(self._status_refunds(refund, record, order_id))
            elif refund.shape == "items":
                found_records.extend(self._item_refunds(refund, record, order_id))
        return found_records

    def _separate_refund(self, stream: StreamSpec, refund: RefundSpec, record: Any,
                         own_id: str | None) -> RefundRecord:
        original = self._id(field(record, refund.original, self.spec.sentinels))
        return RefundRecord(
            origin=self._origin("orders", "refund", own_id), refund_id=own_id,
            order_id=original,
            refunded_at=field(record, refund.refunded_at) if refund.refunded_at else
            self._f(stream, record, "completed_at"),
            amount=_absolute(field(record, refund.amount, self.spec.sentinels)),
            raw=self._raw(record))

    def _status_refunds(self, refund: RefundSpec, record: Any,
                        order_id: str | None) -> list[SourceRecord]:
        if not matches(record, refund.when):
            return []
        total = _absolute(field(record, refund.amount, self.spec.sentinels))
        return [RefundRecord(
            origin=self._origin("orders", "refund", f"{order_id} (refunded total)"),
            refund_id=f"{order_id}:refunded:{total}", order_id=order_id,
            refunded_at=field(record, refund.refunded_at) if refund.refunded_at else None,
            amount=total, cumulative=True, raw=self._raw(record))]

    def _item_refunds(self, refund: RefundSpec, record: Any,
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
                refunded_at=field(record, refund.refunded_at) if refund.refunded_at
                else None,
                amount=_absolute(field(item, refund.amount, self.spec.sentinels)),
                raw=self._raw(item)))
        return found


def _absolute(value: str | None) -> str | None:
    return value[1:] if value is not None and value.startswith("-") else value
