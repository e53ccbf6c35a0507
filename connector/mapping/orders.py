"""Order and refund rows → the parts of Sticky ``order.completed`` / ``order.refunded`` events.

The Sticky customer id is not known here (it lives in the identity map): the engine adds
``customer_id`` when it sends the event.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from adapters.records import LineItem, OrderRecord, RefundRecord
from connector.errors import InvalidRecord, SkipRecord
from connector.mapping.context import MappingContext
from connector.mapping.keys import customer_key, order_key, refund_key
from connector.mapping.phone import normalize_phone
from connector.mapping.sentinels import has_control
from connector.mapping.values import clean, parse_items, parse_money_cents, parse_quantity

COMPLETED_STATUSES = frozenset({
    "completed", "complete", "closed", "paid", "fulfilled", "finalized", "sold", "done",
    "success", "refunded", "partially_refunded", "returned",
})
NOT_COMPLETED_STATUSES = frozenset({
    "cancelled", "canceled", "void", "voided", "declined", "rejected", "failed", "pending",
    "open", "draft", "processing", "on_hold", "abandoned", "in_progress", "not_completed",
})


@dataclass(frozen=True, slots=True)
class MappedOrder:
    key: str
    workspace: str
    customer_key: str | None
    phone: str | None
    amount_cents: int
    items: tuple[dict[str, Any], ...]
    warnings: tuple[str, ...] = ()
    source_customer: str | None = None
    """The customer id as the source wrote it."""

    def event_body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"type": "order.completed", "amount_cents": self.amount_cents}
        if self.items:
            body["items"] = [dict(item) for item in self.items]
        return body


@dataclass(frozen=True, slots=True)
class MappedRefund:
    key: str
    order_key: str
    amount_cents: int
    remainder: bool = False
    """A cancellation: the amount is decided at planning (what is left of the order)."""
    cumulative: bool = False
    """``amount_cents`` is the refunded total to reach; planning sends the difference."""

    def event_body(self, amount_cents: int | None = None) -> dict[str, Any]:
        return {"type": "order.refunded",
                "amount_cents": self.amount_cents if amount_cents is None else amount_cents}


def map_order(record: OrderRecord, ctx: MappingContext) -> MappedOrder:
    order_id = clean(record.order_id)
    if order_id is None:
        raise InvalidRecord("missing_order_id", "order_id: the order has no id", field="order_id")
    _require_completed(record.status, order_id)
    amount = parse_money_cents(record.total, field="total")
    items = _items(record.items)
    warnings: list[str] = []
    source_customer = clean(record.customer_id)
    phone: str | None = None
    if clean(record.phone) is not None:
        try:
            phone = normalize_phone(record.phone, ctx.phone_region)
        except InvalidRecord:
            if source_customer is None:
                raise
            warnings.append("invalid_order_phone_ignored")
    if source_customer is None and phone is None:
        raise SkipRecord("no_phone", f"order {order_id}: no customer_id and no phone "
                         "(a guest sale cannot earn loyalty points)", field="customer_id")
    return MappedOrder(
        key=order_key(ctx.source, order_id),
        workspace=ctx.workspace_for(clean(record.store_id)),
        customer_key=customer_key(record.customer_id_space or ctx.source, source_customer)
        if source_customer else None,
        phone=phone, amount_cents=amount, items=canonical_items(items),
        warnings=tuple(warnings),
        source_customer=source_customer,
    )


def map_refund(record: RefundRecord, ctx: MappingContext) -> MappedRefund:
    refund_id = clean(record.refund_id)
    if refund_id is None:
        raise InvalidRecord("missing_refund_id", "refund_id: the refund has no id",
                            field="refund_id")
    order_id = clean(record.order_id)
    if order_id is None:
        raise InvalidRecord("missing_order_id",
                            f"refund {refund_id}: order_id is empty", field="order_id")
    if record.remainder:
        return MappedRefund(key=refund_key(ctx.source, refund_id),
                            order_key=order_key(ctx.source, order_id), amount_cents=0,
                            remainder=True)
    # Exports write refunds as positive or negative amounts; the event carries the size.
    amount = abs(parse_money_cents(record.amount, field="amount", allow_negative=True))
    if amount == 0:
        raise SkipRecord("zero_amount", f"refund {refund_id}: amount is 0", field="amount")
    return MappedRefund(key=refund_key(ctx.source, refund_id),
                        order_key=order_key(ctx.source, order_id), amount_cents=amount,
                        cumulative=record.cumulative)


def canonical_items(items: list[dict[str, Any]]) -> tuple[dict[str, Any], ...]:
    """Line items in one order whatever order the source lists them in (Shopify's bulk
    results put them anywhere in the file, an API may sort them differently on each
    read): the event's content, so its idempotency key, must not depend on it, or an
    order re-read after a crash would be sent again under a new key."""
    return tuple(sorted(items, key=lambda item: (str(item.get("sku")), str(item.get("qty")))))


def _require_completed(raw_status: str | None, order_id: str) -> None:
    status = clean(raw_status)
    if status is None:
        return
    normalized = status.lower().replace(" ", "_").replace("-", "_")
    if normalized in COMPLETED_STATUSES:
        return
    if normalized == "test":
        raise SkipRecord("test_order", f"order {order_id}: a test order", field="status")
    if normalized in NOT_COMPLETED_STATUSES:
        raise SkipRecord("order_not_completed",
                         f"order {order_id}: status {status!r} is not a completed sale",
                         field="status")
    raise InvalidRecord("unknown_status",
                        f"order {order_id}: status {status!r} is not a known order status "
                        f"(completed: {', '.join(sorted(COMPLETED_STATUSES))}; not completed: "
                        f"{', '.join(sorted(NOT_COMPLETED_STATUSES))})", field="status")


def _items(raw: str | tuple[LineItem, ...] | None) -> list[dict[str, Any]]:
    if raw is None or isinstance(raw, str):
        return parse_items(raw)
    items: list[dict[str, Any]] = []
    for n, item in enumerate(raw, start=1):
        if has_control(item.sku):  # a SKU is an identity: never silently edited
            raise InvalidRecord("invalid_items", f"items[{n}].sku has control characters",
                                field="items")
        items.append({"sku": clean(item.sku) or "",
                      "qty": parse_quantity(item.qty, field=f"items[{n}].qty")})
    return items
