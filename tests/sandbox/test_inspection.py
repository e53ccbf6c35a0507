from __future__ import annotations

import httpx2

from sandbox import RunningSandbox
from sandbox.stats import STAT_KEYS
from sandbox.testing import SandboxAdmin, sticky_headers
from tests.sandbox.conftest import WS_A, WS_B
from tests.sandbox.helpers import create_customer

EXPECTED_KEYS = {
    "requests",
    "accepted",
    "rejected",
    "rate_limited",
    "server_errors",
    "dropped",
    "customers_created",
    "customers_deduplicated",
    "events_created",
    "idempotent_replays",
    "peak_window",
}


def test_stats_shape_and_totals(
    client: httpx2.Client, client_b: httpx2.Client, admin: SandboxAdmin
) -> None:
    assert set(STAT_KEYS) == EXPECTED_KEYS
    empty = admin.stats()
    assert set(empty) == {"workspaces", "totals", "sticker"}
    assert (empty["workspaces"], empty["totals"]) == ({}, dict.fromkeys(EXPECTED_KEYS, 0))
    customer = create_customer(client)
    client.post("/v1/events", json={"type": "visit", "customer_id": customer["id"]})
    client.post("/v1/events", json={"type": "nope", "customer_id": customer["id"]})
    create_customer(client_b)
    stats = admin.stats()
    a, b = stats["workspaces"][WS_A], stats["workspaces"][WS_B]
    assert set(a) == EXPECTED_KEYS
    assert (a["requests"], a["accepted"], a["rejected"], a["events_created"]) == (3, 2, 1, 1)
    assert (b["requests"], b["accepted"], b["customers_created"]) == (1, 1, 1)
    assert stats["totals"] == {key: a[key] + b[key] for key in EXPECTED_KEYS}


def test_inspection_needs_no_auth_and_is_not_rate_limited(
    sandbox: RunningSandbox, client: httpx2.Client
) -> None:
    create_customer(client)
    with httpx2.Client(base_url=sandbox.base_url) as bare:
        responses = [bare.get("/_sandbox/customers") for _ in range(120)]
    assert {r.status_code for r in responses} == {200}
    [customer] = responses[-1].json()["data"]
    assert set(customer) == {
        "workspace",
        "id",
        "phone",
        "email",
        "first_name",
        "consent",
        "metadata",
        "points_balance",
        "tier",
        "idempotency_key",
        "created_at",
    }


def test_workspace_filter(
    client: httpx2.Client, client_b: httpx2.Client, admin: SandboxAdmin
) -> None:
    create_customer(client)
    create_customer(client_b)
    assert [c["workspace"] for c in admin.customers(WS_B)] == [WS_B]
    assert admin.customers("ws_unknown") == []
    assert len(admin.customers()) == 2


def test_customer_keeps_its_idempotency_key(client: httpx2.Client, admin: SandboxAdmin) -> None:
    client.post(
        "/v1/customers",
        json={"phone": "+13035551234"},
        headers=sticky_headers(WS_A, idempotency_key="import-1"),
    )
    [customer] = admin.customers()
    assert customer["idempotency_key"] == "import-1"


def test_reset_clears_everything(
    sandbox: RunningSandbox, client: httpx2.Client, admin: SandboxAdmin
) -> None:
    customer = create_customer(client)
    client.post("/v1/events", json={"type": "visit", "customer_id": customer["id"]})
    client.post("/v1/passes", json={"customer_id": customer["id"]})
    client.post("/v1/webhooks", json={"url": "https://x.co/h", "events": ["a.b"]})
    key_headers = sticky_headers(WS_A, idempotency_key="once")
    client.post("/v1/customers", json={"phone": "+13035550001"}, headers=key_headers)
    for _ in range(95):
        client.get("/v1/customers")

    response = httpx2.post(f"{sandbox.base_url}/_sandbox/reset")
    assert response.status_code == 200
    assert admin.customers() == admin.events() == admin.passes() == admin.webhooks() == []
    assert admin.stats()["workspaces"] == {}
    # rate window and idempotency keys are gone too
    statuses = {client.get("/v1/customers").status_code for _ in range(50)}
    assert statuses == {200}
    again = client.post("/v1/customers", json={"phone": "+13035559999"}, headers=key_headers)
    assert again.status_code == 201
    assert "idempotent-replayed" not in again.headers


def test_reset_rejects_bad_bodies(sandbox: RunningSandbox) -> None:
    url = f"{sandbox.base_url}/_sandbox/reset"
    assert httpx2.post(url, json={"faults": "yes"}).status_code == 400
    assert httpx2.post(url, json={"everything": True}).status_code == 400
    assert httpx2.post(url, content=b"[1]").status_code == 400


def test_health(sandbox: RunningSandbox) -> None:
    assert httpx2.get(f"{sandbox.base_url}/_sandbox/health").json() == {"ok": True}
