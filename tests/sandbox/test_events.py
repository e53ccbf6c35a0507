from __future__ import annotations

from typing import Any

import httpx2
import pytest

from sandbox.sticky.loyalty import tier_for
from sandbox.testing import SandboxAdmin
from tests.sandbox.conftest import WS_A
from tests.sandbox.helpers import assert_error, create_customer

INVALID = "invalid_request_error"
CUSTOMER = "$CUSTOMER"  # replaced by a real customer id


def _fill(value: Any, customer_id: str) -> Any:
    if value == CUSTOMER:
        return customer_id
    if isinstance(value, dict):
        return {k: _fill(v, customer_id) for k, v in value.items()}
    return value


def _order(**overrides: Any) -> dict[str, Any]:
    return {"type": "order.completed", "customer_id": CUSTOMER, "amount_cents": 1000, **overrides}


def _without(key: str, body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k != key}


VALIDATION_CASES: list[tuple[str, Any, str, str | None]] = [
    ("array body", [], "invalid_json", None),
    ("unknown field", _order(store="x"), "unknown_parameter", "store"),
    ("type missing", _without("type", _order()), "parameter_missing", "type"),
    ("type unknown", _order(type="purchase"), "invalid_type", "type"),
    ("type number", _order(type=1), "invalid_type", "type"),
    ("customer missing", _without("customer_id", _order()), "parameter_missing", "customer_id"),
    ("customer unknown", _order(customer_id="cus_nope000000"), "customer_not_found", "customer_id"),
    ("customer number", _order(customer_id=7), "customer_not_found", "customer_id"),
    (
        "completed no amount",
        _without("amount_cents", _order()),
        "parameter_missing",
        "amount_cents",
    ),
    (
        "refunded no amount",
        _without("amount_cents", _order(type="order.refunded")),
        "parameter_missing",
        "amount_cents",
    ),
    ("amount string", _order(amount_cents="1000"), "invalid_amount", "amount_cents"),
    ("amount float", _order(amount_cents=10.5), "invalid_amount", "amount_cents"),
    ("amount integral float", _order(amount_cents=1000.0), "invalid_amount", "amount_cents"),
    ("amount bool", _order(amount_cents=True), "invalid_amount", "amount_cents"),
    ("amount negative", _order(amount_cents=-1), "invalid_amount", "amount_cents"),
    ("amount null", _order(amount_cents=None), "invalid_amount", "amount_cents"),
    ("visit bad amount", _order(type="visit", amount_cents="5"), "invalid_amount", "amount_cents"),
    ("items object", _order(items={"sku": "a", "qty": 1}), "invalid_items", "items"),
    ("item not object", _order(items=["a"]), "invalid_items", "items[0]"),
    ("item sku missing", _order(items=[{"qty": 1}]), "invalid_items", "items[0].sku"),
    ("item sku empty", _order(items=[{"sku": "", "qty": 1}]), "invalid_items", "items[0].sku"),
    ("item qty missing", _order(items=[{"sku": "a"}]), "invalid_items", "items[0].qty"),
    (
        "item qty zero",
        _order(items=[{"sku": "a", "qty": 1}, {"sku": "b", "qty": 1}, {"sku": "c", "qty": 0}]),
        "invalid_items",
        "items[2].qty",
    ),
    ("item qty float", _order(items=[{"sku": "a", "qty": 1.0}]), "invalid_items", "items[0].qty"),
    ("item qty bool", _order(items=[{"sku": "a", "qty": True}]), "invalid_items", "items[0].qty"),
    (
        "item extra field",
        _order(items=[{"sku": "a", "qty": 1, "price": 5}]),
        "invalid_items",
        "items[0].price",
    ),
]


@pytest.mark.parametrize(
    ("body", "code", "param"),
    [case[1:] for case in VALIDATION_CASES],
    ids=[case[0] for case in VALIDATION_CASES],
)
def test_event_validation(
    client: httpx2.Client, admin: SandboxAdmin, body: Any, code: str, param: str | None
) -> None:
    customer = create_customer(client)
    response = client.post("/v1/events", json=_fill(body, customer["id"]))
    assert_error(response, 400, INVALID, code, param)
    assert admin.events() == []
    assert admin.workspace_stats(WS_A)["events_created"] == 0


@pytest.mark.parametrize(
    "body",
    [
        {"type": "visit", "customer_id": CUSTOMER},
        {"type": "referral", "customer_id": CUSTOMER, "amount_cents": 0},
        _order(amount_cents=0),
        _order(items=[]),
        _order(items=[{"sku": "cd-pre-1g-1", "qty": 2}, {"sku": "x", "qty": 1}]),
    ],
)
def test_event_accepts(client: httpx2.Client, body: dict[str, Any]) -> None:
    customer = create_customer(client)
    assert client.post("/v1/events", json=_fill(body, customer["id"])).status_code == 201


def test_event_response_and_storage(client: httpx2.Client, admin: SandboxAdmin) -> None:
    customer = create_customer(client)
    body = {
        "type": "order.completed",
        "customer_id": customer["id"],
        "amount_cents": 14400,
        "items": [{"sku": "cd-pre-1g-1", "qty": 2}],
    }
    response = client.post("/v1/events", json=body)
    assert response.status_code == 201
    event = response.json()
    assert set(event) == {
        "id",
        "type",
        "customer_id",
        "amount_cents",
        "items",
        "points_awarded",
        "created_at",
    }
    assert event["id"].startswith("evt_") and len(event["id"]) == 14
    assert event["points_awarded"] == 144
    assert event["items"] == body["items"]
    [stored] = admin.events(WS_A)
    assert stored["id"] == event["id"]
    assert stored["workspace"] == WS_A
    assert stored["idempotency_key"] is None
    visit = client.post("/v1/events", json={"type": "visit", "customer_id": customer["id"]})
    assert (visit.json()["amount_cents"], visit.json()["items"]) == (None, [])
    assert admin.workspace_stats(WS_A)["events_created"] == 2


def _balance(client: httpx2.Client, phone: str) -> tuple[int, str]:
    [customer] = client.get("/v1/customers", params={"phone": phone}).json()["data"]
    return customer["points_balance"], customer["tier"]


# (type, amount_cents, points_awarded, balance after, tier after)
LEDGER: list[tuple[str, int | None, int, int, str]] = [
    ("order.completed", 24_999, 249, 249, "bronze"),
    ("order.completed", 100, 1, 250, "silver"),
    ("order.completed", 74_999, 749, 999, "silver"),
    ("order.completed", 199, 1, 1000, "gold"),
    ("order.completed", 150_000, 1500, 2500, "platinum"),
    ("order.refunded", 100, -1, 2499, "gold"),
    ("visit", None, 0, 2499, "gold"),
    ("referral", None, 0, 2499, "gold"),
    ("order.completed", 99, 0, 2499, "gold"),
    ("order.refunded", 1_000_000, -10_000, 0, "bronze"),
    ("order.refunded", 500, -5, 0, "bronze"),
    ("order.completed", 25_000, 250, 250, "silver"),
]


def test_points_and_tier_transitions(client: httpx2.Client) -> None:
    customer = create_customer(client)
    for event_type, amount, awarded, balance, tier in LEDGER:
        body: dict[str, Any] = {"type": event_type, "customer_id": customer["id"]}
        if amount is not None:
            body["amount_cents"] = amount
        response = client.post("/v1/events", json=body)
        assert response.status_code == 201, response.text
        assert response.json()["points_awarded"] == awarded, (event_type, amount)
        assert _balance(client, customer["phone"]) == (balance, tier), (event_type, amount)


@pytest.mark.parametrize(
    ("balance", "tier"),
    [
        (0, "bronze"),
        (249, "bronze"),
        (250, "silver"),
        (999, "silver"),
        (1000, "gold"),
        (2499, "gold"),
        (2500, "platinum"),
        (10**9, "platinum"),
    ],
)
def test_tier_thresholds(balance: int, tier: str) -> None:
    assert tier_for(balance) == tier
