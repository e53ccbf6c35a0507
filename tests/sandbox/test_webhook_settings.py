"""Webhook delivery settings: config, CLI flags, ``/_sandbox/webhooks/settings`` and reset."""

from __future__ import annotations

from typing import Any

import httpx2
import pytest

from sandbox import RunningSandbox, SandboxConfig, create_app
from sandbox.__main__ import build_parser, config_from_args
from sandbox.app import get_state
from sandbox.sticky.delivery_settings import BASE_DELAY, WebhookSettings
from sandbox.testing import SandboxAdmin

DEFAULTS = {"time_scale": 1.0, "duplicates": 1, "timeout_seconds": 10.0}


def test_schedule_spans_24_hours() -> None:
    settings = WebhookSettings()
    gaps = [settings.delay_after(n) for n in range(1, 6)]
    assert gaps == [BASE_DELAY * 2 ** (n - 1) for n in range(1, 6)]
    assert sum(gaps) == pytest.approx(86400)
    assert WebhookSettings(time_scale=0.0001).delay_after(5) == pytest.approx(gaps[4] * 0.0001)


def test_settings_endpoint(admin: SandboxAdmin) -> None:
    assert admin.webhook_settings() == DEFAULTS
    changed = admin.webhook_settings(time_scale=0.5, duplicates=10)
    assert changed == {**DEFAULTS, "time_scale": 0.5, "duplicates": 10}
    assert admin.webhook_settings(timeout_seconds=2)["timeout_seconds"] == 2
    admin.reset()
    assert admin.webhook_settings()["duplicates"] == 10
    admin.reset(faults=True)
    assert admin.webhook_settings() == DEFAULTS


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"time_scale": 0}, "time_scale"),
        ({"time_scale": -1.0}, "time_scale"),
        ({"time_scale": "fast"}, "time_scale"),
        ({"duplicates": 0}, "duplicates"),
        ({"duplicates": 11}, "duplicates"),
        ({"duplicates": 2.0}, "duplicates"),
        ({"duplicates": True}, "duplicates"),
        ({"timeout_seconds": 0}, "timeout_seconds"),
        ({"timeout_seconds": None}, "timeout_seconds"),
        ({"retries": 3}, "retries"),
    ],
)
def test_invalid_settings(
    sandbox: RunningSandbox, admin: SandboxAdmin, body: dict[str, Any], param: str
) -> None:
    response = httpx2.post(f"{sandbox.base_url}/_sandbox/webhooks/settings", json=body)
    assert response.status_code == 400, response.text
    error = response.json()
    assert (error["type"], error["code"], error["param"]) == (
        "invalid_request_error",
        "invalid_webhook_setting",
        param,
    )
    assert admin.webhook_settings() == DEFAULTS


def test_settings_reject_non_objects_and_infinity(sandbox: RunningSandbox) -> None:
    url = f"{sandbox.base_url}/_sandbox/webhooks/settings"
    response = httpx2.post(url, content=b"[1]")
    assert (response.status_code, response.json()["code"]) == (400, "invalid_json")
    response = httpx2.post(url, content=b'{"timeout_seconds": 1e999}')  # parsed as inf
    assert (response.status_code, response.json()["param"]) == (400, "timeout_seconds")


def test_config_and_cli() -> None:
    config = SandboxConfig(webhook_time_scale=0.01, webhook_duplicates=2)
    state = get_state(create_app(config))
    assert state.sticky_webhooks.settings == WebhookSettings(0.01, 2, 10.0)
    for fields in (
        {"webhook_time_scale": 0},
        {"webhook_duplicates": 11},
        {"webhook_timeout_seconds": -1},
    ):
        with pytest.raises(ValueError, match=next(iter(fields))):
            SandboxConfig(**fields)  # type: ignore[arg-type]

    args = build_parser().parse_args(
        [
            "--webhook-time-scale",
            "0.001",
            "--webhook-duplicates",
            "3",
            "--webhook-timeout-seconds",
            "2.5",
        ]
    )
    parsed = config_from_args(args)
    assert parsed.webhook_settings == WebhookSettings(0.001, 3, 2.5)
    assert config_from_args(build_parser().parse_args([])).webhook_settings == WebhookSettings()
