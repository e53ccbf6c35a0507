"""Sticker: 10 requests per rolling second per API key by default (an assumption)."""

from __future__ import annotations

import time

import httpx2

from sandbox import RunningSandbox, SandboxConfig
from sandbox.testing import SandboxAdmin, sandbox_server, sticker_client
from tests.sandbox.sticker_support import SETUP, assert_sticker_error, minimal_body


def test_eleventh_request_in_a_second_gets_429(
    sandbox: RunningSandbox, sticker: httpx2.Client, admin: SandboxAdmin
) -> None:
    assert sandbox.config.sticker_rate_limit == 10
    statuses = [sticker.post(SETUP, json=minimal_body()).status_code for _ in range(10)]
    assert statuses == [200] * 10
    response = sticker.post(SETUP, json=minimal_body())
    body = assert_sticker_error(response, 429, "Too Many Requests", "RATE_LIMITED")
    assert set(body) == {"error", "message", "code"}
    retry_after = response.headers["retry-after"]
    assert retry_after.isdigit() and int(retry_after) >= 1
    assert len(admin.organizations()) == 10
    assert len(admin.sticker_requests()) == 10  # 429s never reach processing
    stats = admin.sticker_stats()
    assert (stats["requests"], stats["rate_limited"], stats["peak_window"]) == (11, 1, 10)

    # the window is per API key
    with sticker_client(sandbox, "sk_live_another_partner") as other:
        assert other.post(SETUP, json=minimal_body()).status_code == 200

    # rolling window: a slot frees one second after the first request
    time.sleep(1.05)
    assert sticker.post(SETUP, json=minimal_body()).status_code == 200


def test_every_authenticated_request_counts(sticker: httpx2.Client) -> None:
    # validation errors, 404s and 405s use up the window too; 401s do not
    for _ in range(3):
        sticker.post(SETUP, json={})
        sticker.get(SETUP)
        sticker.get("/v1/nothing")
    assert sticker.post(SETUP, json=minimal_body()).status_code == 200
    assert sticker.post(SETUP, json=minimal_body()).status_code == 429


def test_sticker_and_sticky_windows_are_independent(
    sticker: httpx2.Client, client: httpx2.Client
) -> None:
    for _ in range(10):
        sticker.post(SETUP, json=minimal_body())
    assert sticker.post(SETUP, json=minimal_body()).status_code == 429
    assert client.get("/v1/customers").status_code == 200


def test_reset_clears_the_window(sticker: httpx2.Client, admin: SandboxAdmin) -> None:
    for _ in range(10):
        sticker.post(SETUP, json=minimal_body())
    assert sticker.post(SETUP, json=minimal_body()).status_code == 429
    admin.reset()
    assert sticker.post(SETUP, json=minimal_body()).status_code == 200


def test_configurable_and_can_be_disabled() -> None:
    with sandbox_server(SandboxConfig(sticker_rate_limit=2)) as sandbox:
        with sticker_client(sandbox) as sticker:
            statuses = [sticker.post(SETUP, json=minimal_body()).status_code for _ in range(3)]
        assert statuses == [200, 200, 429]
    with sandbox_server(SandboxConfig(sticker_rate_limit=None)) as sandbox:
        with sticker_client(sandbox) as sticker:
            statuses = [sticker.post(SETUP, json=minimal_body()).status_code for _ in range(30)]
        assert statuses == [200] * 30
