"""Small shared helpers for the sandbox tests."""

from __future__ import annotations

from typing import Any

import httpx2

_phone_counter = iter(range(10_000_000, 99_999_999))


def new_phone() -> str:
    """A unique valid E.164 phone number."""
    return f"+1303{next(_phone_counter)}"


def create_customer(client: httpx2.Client, **fields: Any) -> dict[str, Any]:
    body = {"phone": new_phone(), **fields}
    response = client.post("/v1/customers", json=body)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


def assert_error(
    response: httpx2.Response, status: int, type_: str, code: str, param: str | None = None
) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"type", "code", "message", "param"}
    assert (body["type"], body["code"], body["param"]) == (type_, code, param), body
    assert isinstance(body["message"], str) and body["message"]


ALL_WEBHOOK_EVENTS = ["customer.tier_changed", "pass.installed", "journey.entered"]


def subscribe(client: httpx2.Client, url: str, events: list[str] | None = None) -> dict[str, Any]:
    """Create a webhook subscription (all three event types by default)."""
    body = {"url": url, "events": ALL_WEBHOOK_EVENTS if events is None else events}
    response = client.post("/v1/webhooks", json=body)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result
