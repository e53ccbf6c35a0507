from __future__ import annotations

import logging
import time

import httpx2
import pytest

from sandbox import Faults, RunningSandbox, SandboxConfig
from sandbox.faults import FaultError
from sandbox.testing import SandboxAdmin, sandbox_server, sticky_client, sticky_headers
from tests.sandbox.conftest import WS_A, WS_B
from tests.sandbox.helpers import assert_error, create_customer, new_phone

DEFAULT_FAULTS = Faults().to_dict()


def test_injected_server_errors_are_not_processed(
    client: httpx2.Client, admin: SandboxAdmin
) -> None:
    admin.set_faults(error_rate=1.0)
    statuses = set()
    for _ in range(12):
        response = client.post("/v1/customers", json={"phone": new_phone()})
        assert response.status_code in (500, 502, 503)
        assert response.json()["type"] == "api_error"
        statuses.add(response.status_code)
    assert len(statuses) > 1
    assert admin.customers() == []
    stats = admin.workspace_stats(WS_A)
    assert (stats["server_errors"], stats["customers_created"], stats["accepted"]) == (12, 0, 0)


def test_error_rate_is_a_fraction_and_seeded(client: httpx2.Client, admin: SandboxAdmin) -> None:
    def run() -> list[int]:
        admin.set_faults(error_rate=0.5, seed=7)
        return [client.get("/v1/customers").status_code for _ in range(40)]

    first = run()
    assert 5 < sum(s >= 500 for s in first) < 35
    assert run() == first  # same seed, same request order -> same faults


@pytest.mark.parametrize(("mode", "processed"), [("before", False), ("after", True)])
def test_dropped_connection_is_a_transport_error(
    client: httpx2.Client,
    admin: SandboxAdmin,
    caplog: pytest.LogCaptureFixture,
    mode: str,
    processed: bool,
) -> None:
    customer = create_customer(client)
    admin.set_faults(drop_rate=1.0, drop_mode=mode)
    with caplog.at_level(logging.INFO), pytest.raises(httpx2.TransportError) as caught:
        client.post("/v1/events", json={"type": "visit", "customer_id": customer["id"]})
    assert isinstance(caught.value, httpx2.RemoteProtocolError | httpx2.ReadError)
    assert len(admin.events(WS_A)) == (1 if processed else 0)
    stats = admin.workspace_stats(WS_A)
    assert (stats["dropped"], stats["events_created"]) == (1, int(processed))
    # deliberate drops do not make uvicorn log "Exception in ASGI application" & co.
    assert [r for r in caplog.records if r.name.startswith("uvicorn")] == []
    admin.set_faults(drop_rate=0.0)
    assert client.get("/v1/customers").status_code == 200  # the client recovers


def test_retry_after_drop_with_idempotency_key_does_not_duplicate(
    client: httpx2.Client, admin: SandboxAdmin
) -> None:
    customer = create_customer(client)
    body = {"type": "order.completed", "customer_id": customer["id"], "amount_cents": 900}
    headers = sticky_headers(WS_A, idempotency_key="order-77")
    admin.set_faults(drop_rate=1.0, drop_mode="after")
    with pytest.raises(httpx2.TransportError):
        client.post("/v1/events", json=body, headers=headers)
    admin.set_faults(drop_rate=0.0)
    retried = client.post("/v1/events", json=body, headers=headers)
    assert retried.status_code == 201
    assert retried.headers["idempotent-replayed"] == "true"
    [event] = admin.events(WS_A)
    assert retried.json()["id"] == event["id"]


def test_storm(client: httpx2.Client, client_b: httpx2.Client, admin: SandboxAdmin) -> None:
    admin.set_faults(storm_seconds=0.4)
    for c in (client, client_b):
        response = c.post("/v1/customers", json={"phone": new_phone()})
        assert_error(response, 429, "rate_limit_error", "rate_limited")
        assert response.headers["retry-after"] == "1"
    assert admin.customers() == []
    assert admin.workspace_stats(WS_A)["rate_limited"] == 1
    assert admin.workspace_stats(WS_A)["peak_window"] == 0  # storm 429s are not counted
    time.sleep(0.45)
    assert client.post("/v1/customers", json={"phone": new_phone()}).status_code == 201


def test_storm_limited_to_one_workspace(
    client: httpx2.Client, client_b: httpx2.Client, admin: SandboxAdmin
) -> None:
    admin.set_faults(storm_seconds=5, storm_workspace=WS_B)
    assert client.get("/v1/customers").status_code == 200
    assert client_b.get("/v1/customers").status_code == 429
    admin.set_faults(storm_seconds=0)  # ends the storm now
    assert client_b.get("/v1/customers").status_code == 200


def test_latency(client: httpx2.Client, admin: SandboxAdmin) -> None:
    admin.set_faults(latency_ms=150)
    started = time.monotonic()
    assert client.get("/v1/customers").status_code == 200
    assert time.monotonic() - started >= 0.15
    admin.set_faults(latency_ms=0, latency_jitter_ms=60, seed=1)
    started = time.monotonic()
    for _ in range(3):
        client.get("/v1/customers")
    assert time.monotonic() - started < 1.0
    started = time.monotonic()
    client.get("/_sandbox/stats")  # inspection endpoints are never delayed
    assert time.monotonic() - started < 0.05


def test_runtime_fault_updates(admin: SandboxAdmin) -> None:
    assert admin.faults() == DEFAULT_FAULTS
    updated = admin.set_faults(latency_ms=5, drop_mode="after")
    assert updated == {**DEFAULT_FAULTS, "latency_ms": 5, "drop_mode": "after"}
    admin.set_faults(error_rate=0.25)  # partial: earlier changes are kept
    assert admin.faults() == {
        **DEFAULT_FAULTS,
        "latency_ms": 5,
        "drop_mode": "after",
        "error_rate": 0.25,
    }
    admin.reset()  # data reset keeps faults
    assert admin.faults()["error_rate"] == 0.25
    admin.reset(faults=True)
    assert admin.faults() == DEFAULT_FAULTS


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"latency_ms": -1}, "latency_ms"),
        ({"latency_ms": "5"}, "latency_ms"),
        ({"error_rate": 1.5}, "error_rate"),
        ({"drop_rate": True}, "drop_rate"),
        ({"drop_mode": "sometimes"}, "drop_mode"),
        ({"storm_workspace": 5}, "storm_workspace"),
        ({"ignore_idempotency": "yes"}, "ignore_idempotency"),
        ({"seed": 1.5}, "seed"),
        ({"created_status": 202}, "created_status"),
        ({"created_status": True}, "created_status"),
        ({"chaos": 1}, "chaos"),
    ],
)
def test_invalid_fault_updates(
    sandbox: RunningSandbox, admin: SandboxAdmin, body: dict[str, object], param: str
) -> None:
    response = httpx2.post(f"{sandbox.base_url}/_sandbox/faults", json=body)
    assert_error(response, 400, "invalid_request_error", "invalid_fault", param)
    assert admin.faults() == DEFAULT_FAULTS


def test_created_things_can_be_answered_200_as_the_sticky_document_lists(
    client: httpx2.Client, admin: SandboxAdmin
) -> None:
    """Sticky's document lists ``200 OK`` as its success; ``created_status`` serves it for
    every create (customer, event, pass, webhook), the body unchanged."""
    assert create_customer(client)["id"]  # 201 by default
    admin.set_faults(created_status=200)
    made = client.post("/v1/customers", json={"phone": new_phone()})
    assert made.status_code == 200 and made.json()["created_at"].endswith("Z")
    customer_id = made.json()["id"]
    event = client.post("/v1/events", json={"type": "visit", "customer_id": customer_id})
    minted = client.post("/v1/passes", json={"customer_id": customer_id})
    assert (event.status_code, minted.status_code) == (200, 200)
    assert minted.json()["install_url"]
    assert admin.workspace_stats(WS_A)["customers_created"] == 2


def test_faults_validate_on_construction() -> None:
    with pytest.raises(FaultError):
        Faults(error_rate=2.0)
    with pytest.raises(FaultError):
        Faults(drop_mode="never")  # type: ignore[arg-type]


def test_start_time_faults_and_reset_to_them() -> None:
    config = SandboxConfig(faults=Faults(error_rate=1.0, seed=3))
    with (
        sandbox_server(config) as sandbox,
        SandboxAdmin(sandbox) as admin,
        sticky_client(sandbox, WS_A) as client,
    ):
        assert client.get("/v1/customers").status_code >= 500
        admin.set_faults(error_rate=0.0)
        assert client.get("/v1/customers").status_code == 200
        admin.reset(faults=True)
        assert admin.faults()["error_rate"] == 1.0
        assert client.get("/v1/customers").status_code >= 500


def test_start_time_storm() -> None:
    config = SandboxConfig(faults=Faults(storm_seconds=30))
    with sandbox_server(config) as sandbox, sticky_client(sandbox, WS_A) as client:
        assert client.get("/v1/customers").status_code == 429
