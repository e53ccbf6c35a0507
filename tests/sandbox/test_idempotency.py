from __future__ import annotations

import asyncio
from typing import Any

import httpx2

from sandbox import RunningSandbox
from sandbox.testing import SandboxAdmin, sticky_async_client, sticky_headers
from tests.sandbox.conftest import WS_A, WS_B
from tests.sandbox.helpers import assert_error, create_customer, new_phone


def _post(
    client: httpx2.Client, path: str, body: Any, key: str, workspace: str = WS_A
) -> httpx2.Response:
    return client.post(path, json=body, headers=sticky_headers(workspace, idempotency_key=key))


def test_replay_returns_stored_response_and_changes_nothing(
    client: httpx2.Client, admin: SandboxAdmin
) -> None:
    customer = create_customer(client)
    body = {"type": "order.completed", "customer_id": customer["id"], "amount_cents": 5000}
    first = _post(client, "/v1/events", body, "order-1")
    assert first.status_code == 201
    assert "idempotent-replayed" not in first.headers
    replay = _post(client, "/v1/events", body, "order-1")
    assert replay.status_code == 201
    assert replay.content == first.content
    assert replay.headers["idempotent-replayed"] == "true"

    [event] = admin.events(WS_A)
    assert event["idempotency_key"] == "order-1"
    [stored_customer] = admin.customers(WS_A)
    assert stored_customer["points_balance"] == 50
    stats = admin.workspace_stats(WS_A)
    assert (stats["events_created"], stats["idempotent_replays"]) == (1, 1)
    assert stats["accepted"] == 3


def test_fingerprint_ignores_key_order(client: httpx2.Client, admin: SandboxAdmin) -> None:
    phone = new_phone()
    first = client.post(
        "/v1/customers",
        content=f'{{"phone": "{phone}", "first_name": "Sam"}}',
        headers=sticky_headers(WS_A, idempotency_key="k"),
    )
    second = client.post(
        "/v1/customers",
        content=f'{{"first_name":"Sam","phone":"{phone}"}}',
        headers=sticky_headers(WS_A, idempotency_key="k"),
    )
    assert (first.status_code, second.status_code) == (201, 201)
    assert second.headers["idempotent-replayed"] == "true"
    assert admin.workspace_stats(WS_A)["customers_deduplicated"] == 0


def test_key_reused_with_different_body(client: httpx2.Client, admin: SandboxAdmin) -> None:
    assert _post(client, "/v1/customers", {"phone": new_phone()}, "k1").status_code == 201
    response = _post(client, "/v1/customers", {"phone": new_phone()}, "k1")
    assert_error(response, 400, "idempotency_error", "idempotency_key_reused")
    other_path = _post(client, "/v1/passes", {"phone": new_phone()}, "k1")
    assert_error(other_path, 400, "idempotency_error", "idempotency_key_reused")
    assert len(admin.customers()) == 1


def test_validation_errors_are_replayed(client: httpx2.Client) -> None:
    first = _post(client, "/v1/customers", {"phone": "bad"}, "k-invalid")
    assert_error(first, 400, "invalid_request_error", "invalid_phone", "phone")
    replay = _post(client, "/v1/customers", {"phone": "bad"}, "k-invalid")
    assert replay.content == first.content
    assert replay.headers["idempotent-replayed"] == "true"


def test_keys_are_per_workspace(client: httpx2.Client, admin: SandboxAdmin) -> None:
    body = {"phone": "+13035551234"}
    a = _post(client, "/v1/customers", body, "shared", WS_A)
    b = _post(client, "/v1/customers", body, "shared", WS_B)
    assert (a.status_code, b.status_code) == (201, 201)
    assert "idempotent-replayed" not in b.headers
    assert a.json()["id"] != b.json()["id"]


def test_ignore_idempotency_switch(client: httpx2.Client, admin: SandboxAdmin) -> None:
    customer = create_customer(client)
    admin.set_faults(ignore_idempotency=True)
    body = {"type": "visit", "customer_id": customer["id"]}
    first = _post(client, "/v1/events", body, "visit-1")
    second = _post(client, "/v1/events", body, "visit-1")
    assert (first.status_code, second.status_code) == (201, 201)
    assert "idempotent-replayed" not in second.headers
    assert first.json()["id"] != second.json()["id"]
    events = admin.events(WS_A)
    assert len(events) == 2
    assert [e["idempotency_key"] for e in events] == [None, None]  # as if the header were absent


def test_key_length_limit(client: httpx2.Client) -> None:
    assert _post(client, "/v1/customers", {"phone": new_phone()}, "k" * 255).status_code == 201
    too_long = _post(client, "/v1/customers", {"phone": new_phone()}, "k" * 256)
    assert_error(too_long, 400, "invalid_request_error", "invalid_idempotency_key")


def test_key_is_ignored_on_get(client: httpx2.Client) -> None:
    create_customer(client)
    headers = sticky_headers(WS_A, idempotency_key="list")
    first = client.get("/v1/customers", headers=headers)
    create_customer(client)
    second = client.get("/v1/customers", headers=headers)
    assert (len(first.json()["data"]), len(second.json()["data"])) == (1, 2)
    assert "idempotent-replayed" not in second.headers


def test_server_errors_are_not_stored(client: httpx2.Client, admin: SandboxAdmin) -> None:
    admin.set_faults(error_rate=1.0)
    body = {"phone": new_phone()}
    assert _post(client, "/v1/customers", body, "retry-me").status_code >= 500
    admin.set_faults(error_rate=0.0)
    retried = _post(client, "/v1/customers", body, "retry-me")
    assert retried.status_code == 201
    assert "idempotent-replayed" not in retried.headers


async def test_concurrent_request_with_same_key_gets_409(
    sandbox: RunningSandbox, admin: SandboxAdmin
) -> None:
    admin.set_faults(latency_ms=400)
    body = {"phone": new_phone()}
    headers = sticky_headers(WS_A, idempotency_key="slow")
    async with sticky_async_client(sandbox, WS_A) as client:
        first = asyncio.create_task(client.post("/v1/customers", json=body, headers=headers))
        await asyncio.sleep(0.15)
        second = await client.post("/v1/customers", json=body, headers=headers)
        assert (await first).status_code == 201
        assert_error(second, 409, "idempotency_error", "idempotency_key_in_use")
        admin.set_faults(latency_ms=0)
        third = await client.post("/v1/customers", json=body, headers=headers)
    assert third.status_code == 201
    assert third.headers["idempotent-replayed"] == "true"
    assert len(admin.customers()) == 1
