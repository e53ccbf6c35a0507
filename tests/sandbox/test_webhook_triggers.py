"""What emits webhook events: natural tier changes (``POST /v1/events``) and the sandbox's
triggers (set tier, install/expire a pass, enter a journey)."""

from __future__ import annotations

from typing import Any

import httpx2
import pytest

from sandbox import RunningSandbox
from sandbox.testing import SandboxAdmin, sticky_headers
from tests.sandbox.conftest import WS_A, WS_B
from tests.sandbox.helpers import create_customer

INVALID = "invalid_request_error"


def _order(client: httpx2.Client, customer_id: str, cents: int, **headers: str) -> None:
    kind = "order.refunded" if cents < 0 else "order.completed"
    body = {"type": kind, "customer_id": customer_id, "amount_cents": abs(cents)}
    response = client.post("/v1/events", json=body, headers=headers)
    assert response.status_code == 201, response.text


def _status_error(call: Any, *args: Any) -> httpx2.Response:
    with pytest.raises(httpx2.HTTPStatusError) as caught:
        call(*args)
    response = caught.value.response
    body = response.json()
    assert set(body) == {"type", "code", "message", "param"}
    assert body["type"] == INVALID
    return response


def test_natural_tier_changes_emit_one_event_each(
    client: httpx2.Client, admin: SandboxAdmin
) -> None:
    customer = create_customer(client)
    _order(client, customer["id"], 24_900)  # 249 points: still bronze
    assert admin.webhook_events() == []
    key = sticky_headers(WS_A, idempotency_key="order-2")
    _order(client, customer["id"], 100, **key)  # 250 points: silver
    _order(client, customer["id"], 100, **key)  # idempotent replay: nothing new
    _order(client, customer["id"], 500)  # 255 points: still silver
    [event] = admin.webhook_events()
    assert event["type"] == "customer.tier_changed"
    assert event["workspace"] == WS_A
    assert event["body"]["data"] == {
        "customer_id": customer["id"],
        "previous_tier": "bronze",
        "tier": "silver",
        "points_balance": 250,  # at the time of the change
    }
    _order(client, customer["id"], -1_000)  # refund to 245 points: bronze again
    events = admin.webhook_events()
    assert len(events) == 2
    assert events[1]["body"]["data"] == {
        "customer_id": customer["id"],
        "previous_tier": "silver",
        "tier": "bronze",
        "points_balance": 245,
    }


def test_set_tier(client: httpx2.Client, client_b: httpx2.Client, admin: SandboxAdmin) -> None:
    create_customer(client)
    customer = create_customer(client_b)
    answer = admin.set_tier(customer["id"], "gold")
    assert (answer["id"], answer["workspace"], answer["tier"]) == (customer["id"], WS_B, "gold")
    assert answer["points_balance"] == 0
    [event] = admin.webhook_events()
    assert event["id"] == answer["event_id"]
    assert (event["type"], event["workspace"]) == ("customer.tier_changed", WS_B)
    assert event["body"]["data"] == {
        "customer_id": customer["id"],
        "previous_tier": "bronze",
        "tier": "gold",
        "points_balance": 0,
    }
    assert admin.set_tier(customer["id"], "gold")["event_id"] is None  # unchanged
    assert len(admin.webhook_events()) == 1
    assert admin.customers(WS_B)[0]["tier"] == "gold"

    for tier in ("diamond", "Gold", ""):
        response = _status_error(admin.set_tier, customer["id"], tier)
        assert (response.status_code, response.json()["code"]) == (400, "invalid_tier")
    response = _status_error(admin.set_tier, "cus_nobody0000", "gold")
    assert (response.status_code, response.json()["code"]) == (404, "customer_not_found")


def test_install_pass_is_single_use(client: httpx2.Client, admin: SandboxAdmin) -> None:
    customer = create_customer(client)
    minted = client.post("/v1/passes", json={"customer_id": customer["id"]}).json()
    assert (admin.passes()[0]["installed_at"], admin.passes()[0]["platform"]) == (None, None)
    answer = admin.install_pass(minted["id"], platform="google")
    assert (answer["id"], answer["platform"]) == (minted["id"], "google")
    assert answer["installed_at"] is not None
    [event] = admin.webhook_events()
    assert event["id"] == answer["event_id"]
    assert event["type"] == "pass.installed"
    assert event["body"]["data"] == {
        "pass_id": minted["id"],
        "customer_id": customer["id"],
        "platform": "google",
        "installed_at": answer["installed_at"],
    }
    [stored] = admin.passes()
    assert (stored["platform"], stored["installed_at"]) == ("google", answer["installed_at"])

    again = _status_error(admin.install_pass, minted["id"])
    assert (again.status_code, again.json()["code"]) == (409, "pass_already_installed")
    assert len(admin.webhook_events()) == 1


def test_install_defaults_to_apple_and_checks_platform(
    client: httpx2.Client, admin: SandboxAdmin, sandbox: RunningSandbox
) -> None:
    customer = create_customer(client)
    minted = client.post("/v1/passes", json={"customer_id": customer["id"]}).json()
    bad = _status_error(admin.install_pass, minted["id"], "windows")
    assert (bad.status_code, bad.json()["code"], bad.json()["param"]) == (
        400,
        "invalid_platform",
        "platform",
    )
    url = f"{sandbox.base_url}/_sandbox/passes/{minted['id']}/install"
    answer = httpx2.post(url)  # no body at all
    assert answer.status_code == 200, answer.text
    assert answer.json()["platform"] == "apple"


def test_expired_and_unknown_passes(client: httpx2.Client, admin: SandboxAdmin) -> None:
    customer = create_customer(client)
    minted = client.post("/v1/passes", json={"customer_id": customer["id"]}).json()
    expired = admin.expire_pass(minted["id"])
    assert expired["expires_at"] < minted["expires_at"]
    gone = _status_error(admin.install_pass, minted["id"])
    assert (gone.status_code, gone.json()["code"]) == (410, "pass_expired")
    missing = _status_error(admin.install_pass, "pass_nothing000")
    assert (missing.status_code, missing.json()["code"]) == (404, "pass_not_found")
    missing = _status_error(admin.expire_pass, "pass_nothing000")
    assert missing.status_code == 404
    assert admin.webhook_events() == []
    assert admin.passes()[0]["installed_at"] is None


def test_enter_journey(client: httpx2.Client, admin: SandboxAdmin) -> None:
    customer = create_customer(client)
    answer = admin.enter_journey(customer["id"], "win-back")
    assert (answer["id"], answer["journey"]) == (customer["id"], "win-back")
    [event] = admin.webhook_events()
    assert (event["id"], event["type"]) == (answer["event_id"], "journey.entered")
    assert event["body"]["data"] == {"customer_id": customer["id"], "journey": "win-back"}
    for journey in ("", "x" * 101):
        bad = _status_error(admin.enter_journey, customer["id"], journey)
        assert (bad.status_code, bad.json()["code"]) == (400, "invalid_journey")
    missing = _status_error(admin.enter_journey, "cus_nobody0000", "welcome")
    assert (missing.status_code, missing.json()["code"]) == (404, "customer_not_found")


@pytest.mark.parametrize(
    ("path", "body", "code"),
    [
        ("customers/$C/tier", {}, "parameter_missing"),
        ("customers/$C/tier", {"tier": "gold", "x": 1}, "unknown_parameter"),
        ("customers/$C/journeys", {}, "parameter_missing"),
        ("customers/$C/journeys", [1], "invalid_json"),
        ("passes/$P/install", {"color": "red"}, "unknown_parameter"),
        ("passes/$P/expire", {"when": "now"}, "unknown_parameter"),
    ],
)
def test_trigger_body_validation(
    client: httpx2.Client, sandbox: RunningSandbox, path: str, body: Any, code: str
) -> None:
    customer = create_customer(client)
    minted = client.post("/v1/passes", json={"customer_id": customer["id"]}).json()
    path = path.replace("$C", customer["id"]).replace("$P", minted["id"])
    response = httpx2.post(f"{sandbox.base_url}/_sandbox/{path}", json=body)
    assert response.status_code == 400, response.text
    assert response.json()["code"] == code
