from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx2
import pytest

from sandbox.testing import SandboxAdmin
from tests.sandbox.helpers import assert_error, create_customer

INVALID = "invalid_request_error"


def _parse(stamp: str) -> datetime:
    return datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def test_pass_shape(client: httpx2.Client, admin: SandboxAdmin) -> None:
    customer = create_customer(client)
    response = client.post("/v1/passes", json={"customer_id": customer["id"]})
    assert response.status_code == 201, response.text
    minted = response.json()
    assert set(minted) == {
        "id",
        "customer_id",
        "install_url",
        "apple_url",
        "google_url",
        "expires_at",
    }
    match = re.fullmatch(r"pass_([A-Za-z0-9]{10})", minted["id"])
    assert match is not None
    token = match.group(1)
    assert minted["customer_id"] == customer["id"]
    assert minted["install_url"] == f"https://wallet.sticky.co/i/{token}"
    assert minted["apple_url"] == f"https://wallet.sticky.co/a/{token}.pkpass"
    assert minted["google_url"].startswith("https://pay.google.com/gp/v/save/eyJ")
    expires = _parse(minted["expires_at"])
    expected = datetime.now(UTC) + timedelta(hours=24)
    assert abs((expires - expected).total_seconds()) < 5
    [stored] = admin.passes()
    assert stored["id"] == minted["id"]

    again = client.post("/v1/passes", json={"customer_id": customer["id"]}).json()
    assert again["id"] != minted["id"]


@pytest.mark.parametrize(
    ("body", "code", "param"),
    [
        ({}, "parameter_missing", "customer_id"),
        ({"customer_id": "cus_unknown0000"}, "customer_not_found", "customer_id"),
        ({"customer_id": "$C", "style": "gold"}, "unknown_parameter", "style"),
        ([], "invalid_json", None),
    ],
)
def test_pass_validation(client: httpx2.Client, body: Any, code: str, param: str | None) -> None:
    customer = create_customer(client)
    if isinstance(body, dict) and body.get("customer_id") == "$C":
        body = {**body, "customer_id": customer["id"]}
    assert_error(client.post("/v1/passes", json=body), 400, INVALID, code, param)


def test_webhook_shape(client: httpx2.Client, admin: SandboxAdmin) -> None:
    body = {
        "url": "https://api.yourbrand.com/sticky/webhook",
        "events": ["customer.tier_changed", "pass.installed", "journey.entered"],
    }
    response = client.post("/v1/webhooks", json=body)
    assert response.status_code == 201, response.text
    hook = response.json()
    assert set(hook) == {"id", "url", "events", "secret", "created_at"}
    assert re.fullmatch(r"we_[A-Za-z0-9]{10}", hook["id"])
    assert re.fullmatch(r"whsec_[A-Za-z0-9]{32}", hook["secret"])
    assert (hook["url"], hook["events"]) == (body["url"], body["events"])
    [stored] = admin.webhooks()
    assert stored["id"] == hook["id"]
    assert client.post("/v1/webhooks", json={**body, "url": "http://localhost:9000/h"}).is_success


WEBHOOK_CASES: list[tuple[Any, str, str]] = [
    ({"events": ["pass.installed"]}, "parameter_missing", "url"),
    ({"url": "ftp://example.com/h", "events": ["a.b"]}, "invalid_url", "url"),
    ({"url": "/relative/path", "events": ["a.b"]}, "invalid_url", "url"),
    ({"url": "not a url", "events": ["a.b"]}, "invalid_url", "url"),
    ({"url": "https://", "events": ["a.b"]}, "invalid_url", "url"),
    ({"url": 5, "events": ["a.b"]}, "invalid_url", "url"),
    ({"url": "https://x.co/h"}, "parameter_missing", "events"),
    ({"url": "https://x.co/h", "events": []}, "invalid_events", "events"),
    ({"url": "https://x.co/h", "events": "a.b"}, "invalid_events", "events"),
    ({"url": "https://x.co/h", "events": ["a.b", "Pass.Installed"]}, "invalid_events", "events[1]"),
    ({"url": "https://x.co/h", "events": ["nodot"]}, "invalid_events", "events[0]"),
    ({"url": "https://x.co/h", "events": ["a.b.c"]}, "invalid_events", "events[0]"),
    ({"url": "https://x.co/h", "events": [5]}, "invalid_events", "events[0]"),
    ({"url": "https://x.co/h", "events": ["a.b"], "secret": "x"}, "unknown_parameter", "secret"),
]


@pytest.mark.parametrize(("body", "code", "param"), WEBHOOK_CASES)
def test_webhook_validation(client: httpx2.Client, body: Any, code: str, param: str) -> None:
    assert_error(client.post("/v1/webhooks", json=body), 400, INVALID, code, param)
