"""Sticker: the Bearer key, the one 401 shape, routing errors, ignored Idempotency-Key."""

from __future__ import annotations

import httpx2
import pytest

from sandbox import RunningSandbox, SandboxConfig
from sandbox.testing import SandboxAdmin, sandbox_server, sticker_client, sticker_headers
from tests.sandbox.sticker_support import SETUP, assert_sticker_error, minimal_body

UNAUTHORIZED = {
    "error": "Unauthorized",
    "message": "Invalid or missing API key",
    "code": "UNAUTHORIZED",
}

AUTH_CASES = [
    (None, False),
    ("", False),
    ("Bearer", False),
    ("Basic c2tfdGVzdF94Og==", False),
    ("sk_live_abc", False),
    ("Bearer pk_live_abc", False),
    ("Bearer sk_prod_abc", False),
    ("Bearer sk_live_", False),
    ("Bearer sk_live_ab-c", False),
    ("Bearer sk_live_abc extra", False),
    ("Bearer sk_live_your_api_key_here", True),
    ("Bearer sk_test_abc", True),
    ("bearer sk_live_Zz9", True),
]


@pytest.mark.parametrize(("authorization", "ok"), AUTH_CASES)
def test_api_key_format(
    sandbox: RunningSandbox, admin: SandboxAdmin, authorization: str | None, ok: bool
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    response = httpx2.post(
        f"{sandbox.base_url}/sticker{SETUP}", json=minimal_body(), headers=headers
    )
    if ok:
        assert response.status_code == 200, response.text
    else:
        assert response.status_code == 401
        assert response.json() == UNAUTHORIZED
        assert admin.organizations() == []
        assert admin.sticker_requests() == []  # 401s never reach processing


def test_unauthorized_comes_before_routing_and_validation(sandbox: RunningSandbox) -> None:
    base = f"{sandbox.base_url}/sticker"
    for method, path in [("POST", SETUP), ("GET", SETUP), ("POST", "/v1/nope")]:
        response = httpx2.request(method, base + path, content=b"{bad json")
        assert (response.status_code, response.json()) == (401, UNAUTHORIZED)


def test_configured_keys_only() -> None:
    config = SandboxConfig(sticker_api_keys=frozenset({"sk_live_known"}))
    with sandbox_server(config) as sandbox:
        with sticker_client(sandbox, "sk_live_other") as other:
            response = other.post(SETUP, json=minimal_body())
            assert (response.status_code, response.json()) == (401, UNAUTHORIZED)
        with sticker_client(sandbox, "sk_live_known") as known:
            assert known.post(SETUP, json=minimal_body()).status_code == 200
        # Sticky keys are configured separately: any well-formed Sticky key still works
        sticky = httpx2.get(
            f"{sandbox.base_url}/v1/customers",
            headers={"Authorization": "Bearer sk_test_x", "Sticky-Workspace": "ws"},
        )
        assert sticky.status_code == 200


def test_unknown_path_and_wrong_method(sticker: httpx2.Client) -> None:
    response = sticker.post("/v1/organizations", json=minimal_body())
    body = assert_sticker_error(response, 404, "Not Found", "NOT_FOUND")
    assert set(body) == {"error", "message", "code"}
    response = sticker.get(SETUP)
    body = assert_sticker_error(response, 405, "Method Not Allowed", "METHOD_NOT_ALLOWED")
    assert set(body) == {"error", "message", "code"}
    assert response.headers["allow"] == "POST"


def test_body_over_one_mebibyte(sticker: httpx2.Client) -> None:
    body = {**minimal_body(), "organizationName": "x" * (1024 * 1024)}
    response = sticker.post(SETUP, json=body)
    assert_sticker_error(response, 413, "Payload Too Large", "REQUEST_TOO_LARGE")


def test_idempotency_key_is_ignored(sticker: httpx2.Client, admin: SandboxAdmin) -> None:
    body = minimal_body()
    headers = {**sticker_headers(), "Idempotency-Key": "same"}
    first = sticker.post(SETUP, json=body, headers=headers)
    assert first.status_code == 200
    again = sticker.post(SETUP, json=body, headers=headers)
    assert_sticker_error(again, 409, "Conflict", "USER_ALREADY_EXISTS")  # no replay
    assert "idempotent-replayed" not in again.headers
    # a different body under the same key is not an idempotency error either
    other = sticker.post(SETUP, json=minimal_body(), headers=headers)
    assert other.status_code == 200
    assert admin.sticker_stats()["accepted"] == 2


def test_sticky_workspace_header_is_not_needed(sticker: httpx2.Client) -> None:
    assert "Sticky-Workspace" not in sticker.headers
    assert sticker.post(SETUP, json=minimal_body()).status_code == 200
