"""``POST /v1/events``: validate, record, and update points/tier (a tier change emits
``customer.tier_changed``)."""

from __future__ import annotations

from collections.abc import Mapping

from sandbox.api import ApiResult
from sandbox.errors import invalid
from sandbox.ids import new_id, utc_now
from sandbox.sticky.loyalty import EVENT_TYPES, ORDER_EVENTS, apply_points, points_for, tier_for
from sandbox.sticky.request import StickyRequest
from sandbox.sticky.store import Customer, Event, StickyStore, WorkspaceData
from sandbox.sticky.views import event_public
from sandbox.sticky.webhook_events import TIER_CHANGED, WebhookEmitter, tier_changed
from sandbox.validation import is_int, missing, reject_unknown

FIELDS = ("type", "customer_id", "amount_cents", "items")
ITEM_FIELDS = ("sku", "qty")


def _type(data: Mapping[str, object]) -> str:
    if "type" not in data:
        raise missing("type")
    value = data["type"]
    if not isinstance(value, str) or value not in EVENT_TYPES:
        raise invalid("invalid_type", f"type must be one of {', '.join(EVENT_TYPES)}.", "type")
    return value


def find_customer(workspace: WorkspaceData, data: Mapping[str, object]) -> Customer:
    """The customer named by ``customer_id`` in this workspace, else 400."""
    if "customer_id" not in data:
        raise missing("customer_id")
    value = data["customer_id"]
    customer = workspace.customers.get(value) if isinstance(value, str) else None
    if customer is None:
        raise invalid("customer_not_found", f"No such customer: {value!r}.", "customer_id")
    return customer


def _amount(data: Mapping[str, object], event_type: str) -> int | None:
    if "amount_cents" not in data:
        if event_type in ORDER_EVENTS:
            raise missing("amount_cents")
        return None
    value = data["amount_cents"]
    if not is_int(value) or not isinstance(value, int) or value < 0:
        raise invalid(
            "invalid_amount", "amount_cents must be a non-negative integer.", "amount_cents"
        )
    return value


def _items(data: Mapping[str, object]) -> list[dict[str, object]]:
    if "items" not in data:
        return []
    value = data["items"]
    if not isinstance(value, list):
        raise invalid("invalid_items", "items must be an array of {sku, qty} objects.", "items")
    items: list[dict[str, object]] = []
    for index, item in enumerate(value):
        where = f"items[{index}]"
        if not isinstance(item, dict):
            raise invalid("invalid_items", f"{where} must be an object with sku and qty.", where)
        for key in item:
            if key not in ITEM_FIELDS:
                raise invalid(
                    "invalid_items", f"{where} has unknown field {key}.", f"{where}.{key}"
                )
        sku = item.get("sku")
        if not isinstance(sku, str) or not sku:
            raise invalid(
                "invalid_items", f"{where}.sku must be a non-empty string.", f"{where}.sku"
            )
        qty = item.get("qty")
        if not is_int(qty) or not isinstance(qty, int) or qty < 1:
            raise invalid("invalid_items", f"{where}.qty must be an integer >= 1.", f"{where}.qty")
        items.append({"sku": sku, "qty": qty})
    return items


class EventHandlers:
    def __init__(self, store: StickyStore, webhooks: WebhookEmitter) -> None:
        self._store = store
        self._webhooks = webhooks

    def create(self, request: StickyRequest) -> ApiResult:
        data = request.json_object()
        reject_unknown(data, FIELDS)
        event_type = _type(data)
        workspace = self._store.workspace(request.workspace)
        customer = find_customer(workspace, data)
        amount = _amount(data, event_type)
        items = _items(data)

        delta = points_for(event_type, amount)
        previous_tier = customer.tier
        customer.points_balance = apply_points(customer.points_balance, delta)
        customer.tier = tier_for(customer.points_balance)
        event = Event(
            workspace=request.workspace,
            id=new_id("evt"),
            type=event_type,
            customer_id=customer.id,
            amount_cents=amount,
            items=items,
            points_awarded=delta,
            idempotency_key=request.idempotency_key,
            created_at=utc_now(),
        )
        workspace.events.append(event)
        request.stats.events_created += 1
        if customer.tier != previous_tier:
            self._webhooks.emit(
                request.workspace, TIER_CHANGED, tier_changed(customer, previous_tier)
            )
        return ApiResult(201, event_public(event))
