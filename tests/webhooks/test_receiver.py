"""The webhook receiver over real HTTP on loopback (the daemon's server class): verified
deliveries are stored once; forged, stale, altered or malformed ones are refused with
400 and change nothing."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx2
import pytest
from starlette.applications import Starlette

from connector.config import WebhookSettings
from connector.daemon.server import HealthServer
from connector.webhooks.receiver import Receiver
from connector.webhooks.secrets import SecretBook
from connector.webhooks.signature import sign
from state import StateStore

WS = "ws_hooks"
SECRET = "whsec_receiver_test_secret"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[StateStore]:
    opened = StateStore.open(f"sqlite:///{tmp_path / 'state.db'}")
    yield opened
    opened.close()


def settings(tmp_path: Path, **changes: object) -> WebhookSettings:
    return WebhookSettings(url="https://sync.example.com/hooks/{workspace}",
                           secrets_file=tmp_path / "secrets.json", **changes)


class Served:
    def __init__(self, server: HealthServer, outcomes: list[tuple[str, str]]) -> None:
        self.server = server
        self.outcomes = outcomes

    def url(self, workspace: str = WS) -> str:
        return f"{self.server.url}/hooks/{workspace}"


@pytest.fixture
async def served(tmp_path: Path, store: StateStore) -> AsyncIterator[Served]:
    outcomes: list[tuple[str, str]] = []
    hooks = settings(tmp_path, max_body_bytes=4096)
    receiver = Receiver(hooks, store, SecretBook(hooks, {hooks.secret_env(WS): SECRET}),
                        [WS, "ws_no_secret"],
                        on_outcome=lambda ws, outcome: outcomes.append((ws, outcome)))
    server = HealthServer(Starlette(routes=receiver.routes()), "127.0.0.1", 0)
    await server.start()
    try:
        yield Served(server, outcomes)
    finally:
        await server.stop()


def event_body(event_id: str = "whe_1", **data: object) -> bytes:
    return json.dumps({"id": event_id, "type": "customer.tier_changed",
                       "created_at": "2026-12-03T07:00:00Z", "workspace": WS,
                       "data": {"customer_id": "cus_1", "tier": "gold",
                                "previous_tier": "silver", **data}},
                      separators=(",", ":")).encode()


async def post(url: str, body: bytes, signature: str | None) -> httpx2.Response:
    headers = {"Content-Type": "application/json"}
    if signature is not None:
        headers["Sticky-Signature"] = signature
    async with httpx2.AsyncClient() as client:
        return await client.post(url, content=body, headers=headers)


async def test_a_verified_delivery_is_stored_once_however_often_it_arrives(
        served: Served, store: StateStore) -> None:
    body = event_body()
    for _ in range(3):  # each retry is signed afresh, as Sticky does
        response = await post(served.url(), body, sign(SECRET, body))
        assert response.status_code == 200
        await asyncio.sleep(0)
    (stored,) = store.webhooks.events()
    assert stored.event_id == "whe_1" and stored.deliveries == 3
    assert stored.body == json.loads(body) and stored.processed_at is None
    assert [o for _, o in served.outcomes] == ["stored", "duplicate", "duplicate"]


@pytest.mark.parametrize("case", ["forged", "stale", "altered", "future", "missing",
                                  "malformed_header"])
async def test_bad_or_replayed_signatures_are_refused_and_change_nothing(
        served: Served, store: StateStore, case: str) -> None:
    body = event_body()
    now = int(time.time())
    sent, signature = body, sign(SECRET, body)
    if case == "forged":
        signature = sign("whsec_someone_else", body)
    elif case == "stale":
        signature = sign(SECRET, body, now - 301)  # a valid signature, too old
    elif case == "future":
        signature = sign(SECRET, body, now + 301)
    elif case == "altered":
        sent = body.replace(b'"gold"', b'"platinum"')
    elif case == "missing":
        signature = None  # type: ignore[assignment]
    elif case == "malformed_header":
        signature = "sha256=" + sign(SECRET, body).split("v1=")[1]
    response = await post(served.url(), sent, signature)
    assert response.status_code == 400
    expected = {"forged": "bad_signature", "stale": "stale_timestamp",
                "future": "stale_timestamp", "altered": "bad_signature",
                "missing": "missing_signature", "malformed_header": "malformed_signature"}
    assert response.json()["error"] == expected[case]
    assert store.webhooks.events() == []


async def test_a_rotated_secret_is_accepted_when_any_v1_matches(
        served: Served, store: StateStore) -> None:
    body = event_body()
    good = sign(SECRET, body)
    t, v1 = good.split(",")
    response = await post(served.url(), body, f"{t},v1={'0' * 64},{v1}")
    assert response.status_code == 200
    assert len(store.webhooks.events()) == 1


@pytest.mark.parametrize("body", [b"not json", b"[1,2]", b'{"type":"x.y"}',
                                  b'{"id":"whe_1"}',
                                  b'{"id":"whe_1","type":"a.b","workspace":"ws_other"}'])
async def test_a_signed_but_malformed_event_is_refused(
        served: Served, store: StateStore, body: bytes) -> None:
    response = await post(served.url(), body, sign(SECRET, body))
    assert response.status_code == 400
    assert response.json()["error"] in ("malformed_event", "wrong_workspace")
    assert store.webhooks.events() == []


async def test_too_large_unknown_workspace_and_missing_secret(
        served: Served, store: StateStore) -> None:
    big = event_body(padding="x" * 5000)
    response = await post(served.url(), big, sign(SECRET, big))
    assert response.status_code == 413
    body = event_body()
    response = await post(served.url("ws_no_secret"), body, sign(SECRET, body))
    assert response.status_code == 503  # configured, no secret yet: Sticky retries later
    response = await post(served.url("ws_somebody_else"), body, sign(SECRET, body))
    assert response.status_code == 404
    assert store.webhooks.events() == []
    assert served.outcomes == [(WS, "too_large"), ("ws_no_secret", "no_secret"),
                               ("-", "unknown_workspace")]


async def test_the_event_id_may_come_from_the_header_and_the_type_as_event(
        served: Served, store: StateStore) -> None:
    body = json.dumps({"event": "journey.entered", "created": 1764745200,
                       "data": {"customer_id": "cus_1", "journey": "welcome"}}).encode()
    async with httpx2.AsyncClient() as client:
        response = await client.post(served.url(), content=body, headers={
            "Sticky-Signature": sign(SECRET, body), "Sticky-Event-Id": "whe_from_header"})
    assert response.status_code == 200
    [stored] = store.webhooks.events()
    assert (stored.event_id, stored.type) == ("whe_from_header", "journey.entered")
    assert stored.event_created_at is not None and stored.event_created_at.year == 2025


@pytest.mark.parametrize("stamp", ["9" * 5000, "1" * 14, "12a4", "-5", ""])
async def test_an_absurd_timestamp_is_a_400_never_a_crash(
        served: Served, store: StateStore, stamp: str,
        caplog: pytest.LogCaptureFixture) -> None:
    body = event_body()
    digest = sign(SECRET, body).split("v1=")[1]
    response = await post(served.url(), body, f"t={stamp},v1={digest}")
    assert response.status_code == 400
    assert response.json()["error"] == "malformed_signature"
    assert "Traceback" not in caplog.text and store.webhooks.events() == []


@pytest.mark.parametrize(("depth", "status"), [(1500, 400), (200, 400), (33, 400),
                                                (20, 200)])
async def test_signed_json_nested_too_deep_is_a_400(
        served: Served, store: StateStore, depth: int, status: int) -> None:
    nested = "[" * depth + "]" * depth
    body = f'{{"id":"whe_deep","type":"customer.tier_changed","data":{nested}}}'.encode()
    response = await post(served.url(), body, sign(SECRET, body))
    assert response.status_code == status, response.text
    assert len(store.webhooks.events()) == (1 if status == 200 else 0)
