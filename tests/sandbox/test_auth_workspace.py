from __future__ import annotations

import httpx2
import pytest

from sandbox import RunningSandbox, SandboxConfig
from sandbox.testing import SandboxAdmin, sandbox_server, sticky_client
from tests.sandbox.conftest import WS_A
from tests.sandbox.helpers import assert_error, new_phone

AUTH_CASES = [
    # (Authorization header or None, expected code or None for success)
    (None, "missing_api_key"),
    ("", "missing_api_key"),
    ("Bearer", "invalid_api_key"),
    ("Basic c2tfdGVzdF94Og==", "invalid_api_key"),
    ("sk_test_abc", "invalid_api_key"),
    ("Bearer pk_test_abc", "invalid_api_key"),
    ("Bearer sk_prod_abc", "invalid_api_key"),
    ("Bearer sk_test_", "invalid_api_key"),
    ("Bearer sk_test_ab-c", "invalid_api_key"),
    ("Bearer sk_test_abc extra", "invalid_api_key"),
    ("Bearer sk_test_abc", None),
    ("Bearer sk_live_Zz9_x", None),
    ("bearer sk_test_abc", None),
]


@pytest.mark.parametrize(("authorization", "code"), AUTH_CASES)
def test_api_key_format(
    sandbox: RunningSandbox, authorization: str | None, code: str | None
) -> None:
    headers = {"Sticky-Workspace": WS_A}
    if authorization is not None:
        headers["Authorization"] = authorization
    response = httpx2.post(
        f"{sandbox.base_url}/v1/customers", json={"phone": new_phone()}, headers=headers
    )
    if code is None:
        assert response.status_code == 201, response.text
    else:
        assert_error(response, 401, "authentication_error", code)


def test_errors_never_echo_the_key(sandbox: RunningSandbox) -> None:
    malformed = httpx2.get(
        f"{sandbox.base_url}/v1/customers",
        headers={"Authorization": "Bearer sk_prod_SuperSecret1", "Sticky-Workspace": WS_A},
    )
    assert malformed.status_code == 401
    assert "SuperSecret" not in malformed.text
    with sandbox_server(SandboxConfig(api_keys=frozenset({"sk_test_other"}))) as restricted:
        wrong = httpx2.get(
            f"{restricted.base_url}/v1/customers",
            headers={"Authorization": "Bearer sk_test_SuperSecret2", "Sticky-Workspace": WS_A},
        )
    assert wrong.status_code == 401
    assert "SuperSecret" not in wrong.text


def test_restricted_keys() -> None:
    config = SandboxConfig(api_keys=frozenset({"sk_test_good", "sk_live_prod"}))
    with sandbox_server(config) as restricted:
        for key, status in [
            ("sk_test_good", 201),
            ("sk_live_prod", 200),
            ("sk_test_other", 401),
            ("sk_test_goodx", 401),
        ]:
            with sticky_client(restricted, WS_A, api_key=key) as client:
                response = client.post("/v1/customers", json={"phone": "+13035550000"})
            assert response.status_code == status, (key, response.text)
            if status == 401:
                assert_error(response, 401, "authentication_error", "invalid_api_key")


@pytest.mark.parametrize("workspace", [None, ""])
def test_workspace_required(sandbox: RunningSandbox, workspace: str | None) -> None:
    headers = {"Authorization": "Bearer sk_test_abc"}
    if workspace is not None:
        headers["Sticky-Workspace"] = workspace
    response = httpx2.post(
        f"{sandbox.base_url}/v1/customers", json={"phone": new_phone()}, headers=headers
    )
    assert_error(response, 400, "invalid_request_error", "missing_workspace", "Sticky-Workspace")


def test_auth_is_checked_before_workspace(sandbox: RunningSandbox) -> None:
    response = httpx2.post(f"{sandbox.base_url}/v1/customers", json={})
    assert_error(response, 401, "authentication_error", "missing_api_key")


def test_unauthenticated_requests_are_counted_but_not_rate_limited(
    sandbox: RunningSandbox, admin: SandboxAdmin
) -> None:
    response = httpx2.get(f"{sandbox.base_url}/v1/customers", headers={"Sticky-Workspace": WS_A})
    assert response.status_code == 401
    stats = admin.workspace_stats(WS_A)
    assert (stats["requests"], stats["rejected"], stats["peak_window"]) == (1, 1, 0)


def test_unknown_route_and_wrong_method(client: httpx2.Client) -> None:
    assert_error(client.get("/v1/nope"), 404, "invalid_request_error", "not_found")
    response = client.delete("/v1/customers")
    assert_error(response, 405, "invalid_request_error", "method_not_allowed")
    assert response.headers["allow"] == "GET, POST"
    assert_error(client.get("/v1/events"), 405, "invalid_request_error", "method_not_allowed")
    assert_error(client.get("/elsewhere"), 404, "invalid_request_error", "not_found")


def test_unknown_route_still_requires_auth(sandbox: RunningSandbox) -> None:
    response = httpx2.get(f"{sandbox.base_url}/v1/nope")
    assert_error(response, 401, "authentication_error", "missing_api_key")
