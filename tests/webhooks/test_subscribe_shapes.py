"""`webhooks subscribe` against a Sticky that answers in another shape than our sandbox
(the doc shows no response): no ``id``, the secret under ``signing_secret``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from connector.commands.webhooks import subscribe_command
from connector.config import API_KEY_ENV, load_settings
from connector.daemon.server import HealthServer
from state import StateStore
from tests.support import TEST_KEY, WS_ONLINE, write_config


async def test_a_response_without_id_and_another_secret_field(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[dict[str, object]] = []

    async def webhooks(request: Request) -> JSONResponse:
        seen.append({"workspace": request.headers.get("sticky-workspace"),
                     "key": request.headers.get("idempotency-key"),
                     "body": json.loads(await request.body())})
        return JSONResponse({"url": seen[-1]["body"]["url"],  # type: ignore[index]
                             "signing_secret": f"whsec_{len(seen)}"}, status_code=201)

    other = HealthServer(Starlette(routes=[Route("/v1/webhooks", webhooks,
                                                 methods=["POST"])]), "127.0.0.1", 0)
    await other.start()
    try:
        monkeypatch.setenv(API_KEY_ENV, TEST_KEY)
        config = write_config(tmp_path, other.url, webhooks={
            "url": "https://sync.example.com/h/{workspace}", "secrets_file": "./s.json"})
        settings = load_settings(config, environ={})
        done = await subscribe_command(settings, [WS_ONLINE])
    finally:
        await other.stop()
    assert [(d.action, d.subscription_id) for d in done] == [("subscribed", None)]
    assert seen[0]["body"] == {"url": "https://sync.example.com/h/ws_test_online",
                               "events": ["customer.tier_changed", "pass.installed",
                                          "journey.entered"]}
    assert str(seen[0]["key"]).startswith("ss1_")
    assert json.loads((tmp_path / "s.json").read_text()) == {WS_ONLINE: "whsec_1"}
    store = StateStore.open(settings.state.url)
    try:
        sub = store.webhooks.subscription(WS_ONLINE)
    finally:
        store.close()
    assert sub is not None and sub.subscription_id is None and sub.secret_fingerprint
