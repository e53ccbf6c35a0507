"""GraphQL nodes → canonical source records. Values are located, not interpreted, except
for the two Shopify rules that only make sense here:

- Consent: only ``SUBSCRIBED`` is an opt-in, with the source ``shopify:<collected from>``;
  ``UNSUBSCRIBED`` is an opt-out; anything else says nothing.
- Erasure: ``REDACTED`` (either marketing state) marks the customer erased, and its
  orders as those of an erased customer: neither is ever sent.
- A cancelled order yields, after its own refunds, a *remainder* refund keyed
  ``cancel-<order id>``: whatever of the order was delivered and is not refunded yet is
  taken back (nothing when the order was never sent).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from adapters.records import (
    CustomerRecord,
    LineItem,
    LocationRecord,
    OrderRecord,
    Origin,
    RefundRecord,
    SourceRecord,
)

OPT_IN = "SUBSCRIBED"
REDACTED = "REDACTED"
"""Marketing state of a customer whose personal data was erased (read-only;
../shared/reference/shopify.md §1.4, pitfall 7): the customer is never sent."""
OPT_OUT = frozenset({"UNSUBSCRIBED", REDACTED})
NOT_A_SALE = frozenset({"VOIDED", "EXPIRED"})


def _get(node: Mapping[str, Any] | None, *path: str) -> Any:
    value: Any = node
    for key in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def legacy_id(node: Mapping[str, Any] | None) -> str | None:
    """``legacyResourceId``, else the number at the end of the gid."""
    if not isinstance(node, Mapping):
        return None
    legacy = _text(node.get("legacyResourceId"))
    if legacy is not None:
        return legacy
    gid = _text(node.get("id"))
    return gid.rsplit("/", 1)[-1] if gid else None


def _flag(state: Any) -> str | None:
    if state == OPT_IN:
        return "true"
    if state in OPT_OUT:
        return "false"
    return None


def _origin(source: str, stream: str, node: Mapping[str, Any], label: str) -> Origin:
    return Origin(source=source, stream=stream, locator=f"{label} {legacy_id(node)}")


def is_redacted(customer: Mapping[str, Any] | None) -> bool:
    """Either marketing state of the customer says its personal data was erased (the
    flat 2025-04 fields, or the 2026-10 ``smsMarketingConsent.state``)."""
    return REDACTED in (_get(customer, "defaultEmailAddress", "marketingState"),
                        _get(customer, "defaultPhoneNumber", "marketingState"),
                        _get(customer, "defaultPhoneNumber", "smsMarketingConsent", "state"))


def customer_record(source: str, node: Mapping[str, Any]) -> CustomerRecord:
    phone = node.get("defaultPhoneNumber") or {}
    email = node.get("defaultEmailAddress") or {}
    sms = _flag(phone.get("marketingState"))
    collected = _text(phone.get("marketingCollectedFrom")) or "unknown"
    return CustomerRecord(
        origin=_origin(source, "customers", node, "customer"),
        customer_id=legacy_id(node),
        phone=_text(phone.get("phoneNumber")), email=_text(email.get("emailAddress")),
        first_name=_text(node.get("firstName")), last_name=_text(node.get("lastName")),
        sms_opt_in=sms, email_opt_in=_flag(email.get("marketingState")),
        opt_in_source=f"shopify:{collected.lower()}" if sms == "true" else "shopify",
        opt_in_at=_text(phone.get("marketingUpdatedAt") if sms is not None
                        else email.get("marketingUpdatedAt")),
        updated_at=_text(node.get("updatedAt")), erased=is_redacted(node),
        raw={"id": str(node.get("id")), "updatedAt": str(node.get("updatedAt"))})


def order_records(source: str, node: Mapping[str, Any],
                  line_items: Sequence[Mapping[str, Any]] | None = None
                  ) -> list[SourceRecord]:
    """The order, each of its refunds, and (if cancelled) the remainder refund.

    ``line_items``: the order's line items when they arrived separately (bulk JSONL);
    otherwise they are read from ``node.lineItems.nodes``.
    """
    order_id = legacy_id(node)
    origin = _origin(source, "orders", node, "order")
    raw = {"id": str(node.get("id")), "name": str(node.get("name")),
           "updatedAt": str(node.get("updatedAt"))}
    customer = node.get("customer") or {}
    phone = _text(_get(customer, "defaultPhoneNumber", "phoneNumber")) or _text(
        node.get("phone"))
    status = ("test" if node.get("test") else "cancelled" if node.get("cancelledAt")
              else "voided" if node.get("displayFinancialStatus") in NOT_A_SALE
              else "completed")
    items = line_items if line_items is not None else (
        _get(node, "lineItems", "nodes")
        or [e.get("node") or {} for e in _get(node, "lineItems", "edges") or []])
    records: list[SourceRecord] = [OrderRecord(
        origin=origin, order_id=order_id,
        # A customer without any phone cannot be found at Sticky: a guest sale then.
        customer_id=legacy_id(customer) if phone or is_redacted(customer) else None,
        phone=phone,
        store_id=legacy_id(node.get("retailLocation")),
        completed_at=_text(node.get("processedAt") or node.get("createdAt")),
        total=_text(_get(node, "totalPriceSet", "shopMoney", "amount")),
        items=tuple(_line_item(item) for item in items), status=status, raw=raw,
        customer_erased=is_redacted(customer))]
    for refund in node.get("refunds") or []:
        records.append(RefundRecord(
            origin=Origin(source=source, stream="orders",
                          locator=f"refund {legacy_id(refund)} of order {order_id}"),
            refund_id=legacy_id(refund), order_id=order_id,
            refunded_at=_text(refund.get("createdAt")),
            amount=_text(_get(refund, "totalRefundedSet", "shopMoney", "amount")),
            raw={"id": str(refund.get("id")), "order": str(node.get("id"))}))
    if status == "cancelled" and order_id is not None:
        records.append(RefundRecord(
            origin=Origin(source=source, stream="orders",
                          locator=f"cancellation of order {order_id}"),
            refund_id=f"cancel-{order_id}", order_id=order_id,
            refunded_at=_text(node.get("cancelledAt")), remainder=True, raw=raw))
    return records


def _line_item(item: Mapping[str, Any]) -> LineItem:
    sku = _text(item.get("sku"))
    if sku is None:  # custom sales and untracked products have no SKU
        sku = "shopify-line-" + str(item.get("id", "")).rsplit("/", 1)[-1]
    return LineItem(sku=sku, qty=str(item.get("quantity", "")))


def location_record(source: str, node: Mapping[str, Any]) -> LocationRecord:
    address = node.get("address") or {}
    return LocationRecord(
        origin=_origin(source, "locations", node, "location"),
        store_id=legacy_id(node), name=_text(node.get("name")),
        address1=_text(address.get("address1")), address2=_text(address.get("address2")),
        city=_text(address.get("city")),
        state=_text(address.get("provinceCode") or address.get("province")),
        zip=_text(address.get("zip")), country=_text(address.get("countryCode")),
        phone=_text(address.get("phone")),
        raw={"id": str(node.get("id")), "name": str(node.get("name"))})
