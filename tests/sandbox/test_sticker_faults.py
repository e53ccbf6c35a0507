"""Sticker: SETUP_ERROR before/after, which generic faults apply to Sticker."""

from __future__ import annotations

import time

import httpx2
import pytest

from sandbox import Faults, RunningSandbox, SandboxConfig
from sandbox.faults import FaultError
from sandbox.testing import SandboxAdmin, sandbox_server, sticker_client, sticky_client
from tests.sandbox.conftest import WS_A
from tests.sandbox.helpers import assert_error, new_phone
from tests.sandbox.sticker_support import SETUP, assert_sticker_error, minimal_body

SETUP_ERROR = {
    "error": "Internal Server Error",
    "message": "Failed to setup organization",
    "code": "SETUP_ERROR",
}


def test_setup_error_before_processes_nothing(sticker: httpx2.Client, admin: SandboxAdmin) -> None:
    admin.set_faults(setup_error_next=2)  # mode defaults to "before"
    body = minimal_body()
    for remaining in (1, 0):
        response = sticker.post(SETUP, json=body)
        assert (response.status_code, response.json()) == (500, SETUP_ERROR)
        assert admin.faults()["setup_error_next"] == remaining
    assert admin.organizations() == []
    retried = sticker.post(SETUP, json=body)
    assert retried.status_code == 200
    assert retried.json()["data"]["isNewOrganization"] is True
    logged = admin.sticker_requests()
    assert [(r["status"], r["code"], r["committed"]) for r in logged] == [
        (500, "SETUP_ERROR", False),
        (500, "SETUP_ERROR", False),
        (200, None, True),
    ]
    assert {r["internalOrgId"] for r in logged} == {body["internalOrgId"]}
    stats = admin.sticker_stats()
    assert (stats["server_errors"], stats["setup_errors"], stats["accepted"]) == (2, 2, 1)


def test_setup_error_before_even_for_an_invalid_body(
    sticker: httpx2.Client, admin: SandboxAdmin
) -> None:
    admin.set_faults(setup_error_next=1)
    response = sticker.post(SETUP, json={"nope": 1})
    assert (response.status_code, response.json()) == (500, SETUP_ERROR)
    assert sticker.post(SETUP, json={"nope": 1}).status_code == 400


def test_setup_error_after_commits_then_fails(sticker: httpx2.Client, admin: SandboxAdmin) -> None:
    admin.set_faults(setup_error_next=1, setup_error_mode="after")
    body = minimal_body()
    body["shippingLocations"] = [
        {
            "internalShippingLocationId": "l1",
            "name": "Depot",
            "address": {"line1": "1 Rd", "city": "Austin", "province": "TX", "postalCode": "1"},
        }
    ]
    response = sticker.post(SETUP, json=body)
    assert (response.status_code, response.json()) == (500, SETUP_ERROR)
    [org] = admin.organizations()  # the organization, its profile and location exist
    assert org["internalOrgId"] == body["internalOrgId"]
    [profile] = org["profiles"]
    assert len(org["shippingLocations"]) == 1

    retry = sticker.post(SETUP, json=body)  # the naive retry: the user now exists
    conflict = assert_sticker_error(retry, 409, "Conflict", "USER_ALREADY_EXISTS")
    assert conflict["data"] == {"profileId": profile["id"], "email": body["user"]["email"]}

    # a second user of the same org then joins it, with the committed locations
    other = minimal_body(body["internalOrgId"])
    joined = sticker.post(SETUP, json=other).json()["data"]
    assert joined["isNewOrganization"] is False
    assert [loc["internalShippingLocationId"] for loc in joined["shippingLocations"]] == ["l1"]

    logged = admin.sticker_requests()
    assert [(r["status"], r["code"], r["committed"]) for r in logged] == [
        (500, "SETUP_ERROR", True),
        (409, "USER_ALREADY_EXISTS", False),
        (200, None, True),
    ]
    stats = admin.sticker_stats()
    assert (stats["organizations_created"], stats["profiles_created"]) == (1, 2)
    assert (stats["server_errors"], stats["conflicts"], stats["accepted"]) == (1, 1, 1)


def test_setup_error_after_replaces_any_answer(sticker: httpx2.Client, admin: SandboxAdmin) -> None:
    admin.set_faults(setup_error_next=1, setup_error_mode="after")
    response = sticker.post(SETUP, json={})
    assert (response.status_code, response.json()) == (500, SETUP_ERROR)
    [logged] = admin.sticker_requests()
    assert (logged["committed"], admin.sticker_stats()["validation_errors"]) == (False, 1)


def test_setup_error_rate_is_seeded(sticker: httpx2.Client, admin: SandboxAdmin) -> None:
    def run() -> list[int]:
        admin.reset()
        admin.set_faults(setup_error_rate=0.5, seed=11)
        return [sticker.post(SETUP, json=minimal_body()).status_code for _ in range(8)]

    first = run()
    assert set(first) == {200, 500}
    assert run() == first


def test_sticky_error_faults_do_not_touch_sticker(
    sticker: httpx2.Client, client: httpx2.Client, admin: SandboxAdmin
) -> None:
    admin.set_faults(error_rate=1.0, storm_seconds=30)
    assert sticker.post(SETUP, json=minimal_body()).status_code == 200
    assert_error(
        client.post("/v1/customers", json={"phone": new_phone()}),
        429,
        "rate_limit_error",
        "rate_limited",
    )
    admin.set_faults(storm_seconds=0)
    assert client.post("/v1/customers", json={"phone": new_phone()}).status_code >= 500


def test_setup_error_faults_do_not_touch_sticky(
    sticker: httpx2.Client, client: httpx2.Client, admin: SandboxAdmin
) -> None:
    admin.set_faults(setup_error_rate=1.0, setup_error_next=3)
    assert client.post("/v1/customers", json={"phone": new_phone()}).status_code == 201
    assert admin.faults()["setup_error_next"] == 3
    assert sticker.post(SETUP, json=minimal_body()).status_code == 500


@pytest.mark.parametrize(("mode", "processed"), [("before", False), ("after", True)])
def test_drops_apply_to_sticker(
    sticker: httpx2.Client, admin: SandboxAdmin, mode: str, processed: bool
) -> None:
    admin.set_faults(drop_rate=1.0, drop_mode=mode)
    with pytest.raises(httpx2.TransportError):
        sticker.post(SETUP, json=minimal_body())
    assert len(admin.organizations()) == int(processed)
    assert len(admin.sticker_requests()) == int(processed)
    assert admin.sticker_stats()["dropped"] == 1


def test_latency_applies_to_sticker(sticker: httpx2.Client, admin: SandboxAdmin) -> None:
    admin.set_faults(latency_ms=150)
    started = time.monotonic()
    assert sticker.post(SETUP, json=minimal_body()).status_code == 200
    assert time.monotonic() - started >= 0.15


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"setup_error_rate": 2}, "setup_error_rate"),
        ({"setup_error_rate": "0.5"}, "setup_error_rate"),
        ({"setup_error_next": -1}, "setup_error_next"),
        ({"setup_error_next": 1.5}, "setup_error_next"),
        ({"setup_error_next": True}, "setup_error_next"),
        ({"setup_error_mode": "during"}, "setup_error_mode"),
    ],
)
def test_invalid_setup_error_settings(
    sandbox: RunningSandbox, admin: SandboxAdmin, body: dict[str, object], param: str
) -> None:
    response = httpx2.post(f"{sandbox.base_url}/_sandbox/faults", json=body)
    assert_error(response, 400, "invalid_request_error", "invalid_fault", param)
    assert admin.faults() == Faults().to_dict()


def test_setup_error_settings_at_start_and_reset() -> None:
    with pytest.raises(FaultError):
        Faults(setup_error_mode="sometimes")  # type: ignore[arg-type]
    config = SandboxConfig(faults=Faults(setup_error_next=1, setup_error_mode="after"))
    with (
        sandbox_server(config) as sandbox,
        SandboxAdmin(sandbox) as admin,
        sticker_client(sandbox) as sticker,
        sticky_client(sandbox, WS_A) as client,
    ):
        assert sticker.post(SETUP, json=minimal_body()).status_code == 500
        assert sticker.post(SETUP, json=minimal_body()).status_code == 200
        assert len(admin.organizations()) == 2
        admin.reset()  # a data reset keeps the (used up) faults
        assert admin.faults()["setup_error_next"] == 0
        admin.reset(faults=True)
        assert admin.faults()["setup_error_next"] == 1
        assert sticker.post(SETUP, json=minimal_body()).status_code == 500
        assert client.get("/v1/customers").status_code == 200
