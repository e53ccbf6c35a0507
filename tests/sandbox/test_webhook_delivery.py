"""Webhook delivery over real HTTP to a local receiver: signatures, headers, retries on the
(compressed) schedule, duplicates, filtering by subscription, redelivery and reset."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx2
import pytest

from sandbox.sticky.delivery_settings import BASE_DELAY
from sandbox.sticky.signing import parse, verify
from sandbox.testing import SandboxAdmin
from tests.sandbox.conftest import WS_A
from tests.sandbox.helpers import create_customer, subscribe
from tests.sandbox.webhook_receiver import Received, WebhookReceiver

SCALE = 0.00002  # gaps of 0.056, 0.11, 0.22, 0.45 and 0.89 s


def _journey(admin: SandboxAdmin, client: httpx2.Client, journey: str = "welcome") -> str:
    customer = create_customer(client)
    event_id: str = admin.enter_journey(customer["id"], journey)["event_id"]
    return event_id


def _only_event(admin: SandboxAdmin, timeout: float = 10.0) -> dict[str, Any]:
    [event] = admin.wait_for_deliveries(timeout)
    return event


def _assert_gaps(received: list[Received], scale: float) -> None:
    """Attempt n+1 arrives BASE_DELAY * 2**(n-1) * scale after attempt n (plus overhead)."""
    for n in range(1, len(received)):
        gap = received[n].at - received[n - 1].at
        expected = BASE_DELAY * 2 ** (n - 1) * scale
        assert expected * 0.95 <= gap <= expected + 0.4, (n, gap, expected)


def test_signed_delivery(
    client: httpx2.Client, admin: SandboxAdmin, receiver: WebhookReceiver
) -> None:
    hook = subscribe(client, receiver.url + "/sticky/webhook")
    customer = create_customer(client)
    started = time.time()
    answer = admin.enter_journey(customer["id"], "welcome")
    event = _only_event(admin)
    [request] = receiver.received

    assert request.path == "/sticky/webhook"
    headers = request.headers
    assert headers["content-type"] == "application/json"
    assert headers["user-agent"] == "Sticky-Webhooks/1.0 (sandbox)"
    assert headers["sticky-event-id"] == answer["event_id"] == event["id"]
    assert headers["sticky-workspace"] == WS_A
    assert headers["sticky-delivery-attempt"] == "1"

    signature = headers["sticky-signature"]
    assert verify(hook["secret"], request.body, signature)
    secret = hook["secret"]
    # another last character (the secret's own was "Z" one time in 62: CI caught it)
    wrong = secret[:-1] + ("Y" if secret.endswith("Z") else "Z")
    assert not verify(wrong, request.body, signature)
    assert not verify("whsec_wrong", request.body, signature)
    assert not verify(hook["secret"], request.body.replace(b"welcome", b"welcomf"), signature)
    parsed = parse(signature)
    assert parsed is not None
    assert int(started) <= parsed[0] <= time.time() + 1

    body = json.loads(request.body)
    assert request.body == json.dumps(body, separators=(",", ":")).encode()  # compact
    assert list(body) == ["id", "type", "created_at", "workspace", "data"]
    assert body["id"].startswith("whe_")
    assert (body["type"], body["workspace"]) == ("journey.entered", WS_A)
    assert body["data"] == {"customer_id": customer["id"], "journey": "welcome"}

    assert event["body"] == body
    assert (event["type"], event["workspace"], event["created_at"]) == (
        "journey.entered",
        WS_A,
        body["created_at"],
    )
    [delivery] = event["deliveries"]
    assert delivery["subscription_id"] == hook["id"]
    assert delivery["url"] == hook["url"]
    assert (delivery["state"], delivery["next_attempt_at"]) == ("delivered", None)
    [attempt] = delivery["attempts"]
    assert (attempt["n"], attempt["status"], attempt["error"]) == (1, 200, None)
    assert attempt["at"].endswith("Z")


def test_retry_after_500_then_success(
    client: httpx2.Client, admin: SandboxAdmin, receiver: WebhookReceiver
) -> None:
    hook = subscribe(client, receiver.url)
    admin.webhook_settings(time_scale=SCALE)
    receiver.fail_next(2, status=500)
    _journey(admin, client)
    event = _only_event(admin)
    received = receiver.received
    assert [r.status for r in received] == [500, 500, 200]
    assert [r.headers["sticky-delivery-attempt"] for r in received] == ["1", "2", "3"]
    assert len({r.body for r in received}) == 1  # the same bytes every time
    assert len({r.headers["sticky-event-id"] for r in received}) == 1
    for request in received:
        assert verify(hook["secret"], request.body, request.headers["sticky-signature"])
    _assert_gaps(received, SCALE)
    [delivery] = event["deliveries"]
    assert delivery["state"] == "delivered"
    assert [(a["n"], a["status"], a["error"]) for a in delivery["attempts"]] == [
        (1, 500, None),
        (2, 500, None),
        (3, 200, None),
    ]


def test_six_failures_then_failed_and_no_seventh_attempt(
    client: httpx2.Client, admin: SandboxAdmin, receiver: WebhookReceiver
) -> None:
    hook = subscribe(client, receiver.url)
    admin.webhook_settings(time_scale=SCALE)
    receiver.fail_next(100, status=503)
    event_id = _journey(admin, client)
    event = _only_event(admin, timeout=20)
    [delivery] = event["deliveries"]
    assert (delivery["state"], delivery["next_attempt_at"]) == ("failed", None)
    assert [(a["n"], a["status"]) for a in delivery["attempts"]] == [(n, 503) for n in range(1, 7)]
    time.sleep(0.5)
    received = receiver.received
    assert len(received) == 6
    _assert_gaps(received, SCALE)
    stamps = [parse(r.headers["sticky-signature"]) for r in received]
    assert all(s is not None for s in stamps)
    # signed afresh: every timestamp is its own arrival time (the attempts span ~1.7 s)
    for request, stamp in zip(received, stamps, strict=True):
        assert stamp is not None and abs(stamp[0] - request.wall) <= 1.5
        assert verify(hook["secret"], request.body, request.headers["sticky-signature"])
    assert stamps[0] != stamps[-1]

    # a redelivery is one more attempt, outside the schedule; success makes it delivered
    receiver.clear_plans()
    redelivered = admin.redeliver(event_id)
    [delivery] = redelivered["deliveries"]
    assert delivery["state"] == "delivered"
    assert [(a["n"], a["status"]) for a in delivery["attempts"]][-1] == (7, 200)
    last = receiver.received[-1]
    assert last.headers["sticky-delivery-attempt"] == "7"
    assert last.body == received[0].body
    assert verify(hook["secret"], last.body, last.headers["sticky-signature"])


def test_redeliver_a_delivered_event(
    client: httpx2.Client, admin: SandboxAdmin, receiver: WebhookReceiver
) -> None:
    subscribe(client, receiver.url)
    event_id = _journey(admin, client)
    _only_event(admin)
    event = admin.redeliver(event_id)
    assert [a["n"] for a in event["deliveries"][0]["attempts"]] == [1, 2]
    first, second = receiver.received
    assert second.headers["sticky-event-id"] == first.headers["sticky-event-id"] == event_id
    assert second.headers["sticky-delivery-attempt"] == "2"
    with pytest.raises(httpx2.HTTPStatusError) as caught:
        admin.redeliver("whe_unknown000")
    assert caught.value.response.status_code == 404
    assert caught.value.response.json()["code"] == "webhook_event_not_found"


def test_duplicates_send_every_attempt_several_times(
    client: httpx2.Client, admin: SandboxAdmin, receiver: WebhookReceiver
) -> None:
    hook = subscribe(client, receiver.url)
    admin.webhook_settings(duplicates=3)
    event_id = _journey(admin, client)
    event = _only_event(admin)
    received = receiver.wait_for(3)
    assert len(received) == 3
    assert {r.headers["sticky-event-id"] for r in received} == {event_id}
    assert {r.headers["sticky-delivery-attempt"] for r in received} == {"1"}
    assert len({r.body for r in received}) == 1
    for request in received:
        assert verify(hook["secret"], request.body, request.headers["sticky-signature"])
    [delivery] = event["deliveries"]
    assert delivery["state"] == "delivered"
    assert [(a["n"], a["status"]) for a in delivery["attempts"]] == [(1, 200)] * 3


def test_only_subscribed_types_and_workspace_are_delivered(
    client: httpx2.Client,
    client_b: httpx2.Client,
    admin: SandboxAdmin,
    receiver: WebhookReceiver,
) -> None:
    passes = subscribe(client, receiver.url + "/passes", ["pass.installed"])
    tiers = subscribe(client, receiver.url + "/tiers", ["customer.tier_changed", "x.y"])
    subscribe(client_b, receiver.url + "/other", ["journey.entered", "pass.installed"])
    customer = create_customer(client)
    journey = admin.enter_journey(customer["id"], "welcome")
    tier = admin.set_tier(customer["id"], "gold")
    minted = client.post("/v1/passes", json={"customer_id": customer["id"]}).json()
    installed = admin.install_pass(minted["id"])
    events = admin.wait_for_deliveries()
    assert [e["id"] for e in events] == [
        journey["event_id"],
        tier["event_id"],
        installed["event_id"],
    ]
    assert events[0]["deliveries"] == []  # recorded, nobody subscribed
    assert [d["subscription_id"] for d in events[1]["deliveries"]] == [tiers["id"]]
    assert [d["subscription_id"] for d in events[2]["deliveries"]] == [passes["id"]]
    by_path = {r.path: r.headers["sticky-event-id"] for r in receiver.received}
    assert by_path == {"/tiers": tier["event_id"], "/passes": installed["event_id"]}
    assert admin.webhook_events("ws_nobody") == []
    assert len(admin.webhook_events(WS_A)) == 3


def test_every_matching_subscription_gets_its_own_delivery(
    client: httpx2.Client, admin: SandboxAdmin, receiver: WebhookReceiver
) -> None:
    first = subscribe(client, receiver.url + "/1")
    second = subscribe(client, receiver.url + "/2", ["journey.entered"])
    _journey(admin, client)
    event = _only_event(admin)
    assert {d["subscription_id"] for d in event["deliveries"]} == {first["id"], second["id"]}
    received = receiver.received
    assert sorted(r.path for r in received) == ["/1", "/2"]
    secrets = {"/1": first["secret"], "/2": second["secret"]}
    for request in received:
        signature = request.headers["sticky-signature"]
        assert verify(secrets[request.path], request.body, signature)
        other = secrets["/2" if request.path == "/1" else "/1"]
        assert not verify(other, request.body, signature)


def test_connection_errors_and_timeouts_are_retried(
    client: httpx2.Client, admin: SandboxAdmin, receiver: WebhookReceiver
) -> None:
    closed = WebhookReceiver()
    dead_url = closed.url
    closed.close()
    subscribe(client, dead_url, ["journey.entered"])
    admin.webhook_settings(time_scale=0.000001, timeout_seconds=0.3)
    _journey(admin, client)
    [delivery] = _only_event(admin)["deliveries"]
    assert delivery["state"] == "failed"
    assert len(delivery["attempts"]) == 6
    assert all(a["status"] is None and a["error"] for a in delivery["attempts"])

    admin.reset()
    subscribe(client, receiver.url, ["journey.entered"])
    receiver.stall_next(1, 1.0)
    _journey(admin, client)
    [delivery] = _only_event(admin)["deliveries"]
    assert delivery["state"] == "delivered"
    timeout, success = delivery["attempts"]
    assert (timeout["status"], timeout["error"]) == (None, "timeout after 0.3 s")
    assert (success["n"], success["status"]) == (2, 200)


def test_delivery_never_blocks_the_api(
    client: httpx2.Client, admin: SandboxAdmin, receiver: WebhookReceiver
) -> None:
    subscribe(client, receiver.url)
    receiver.stall_next(1, 1.5)
    customer = create_customer(client)
    started = time.monotonic()
    response = client.post(
        "/v1/events",
        json={"type": "order.completed", "customer_id": customer["id"], "amount_cents": 30000},
    )
    assert response.status_code == 201
    receiver.wait_for(1)
    assert client.get("/v1/customers").status_code == 200  # while the receiver stalls
    assert admin.webhook_events()[0]["deliveries"][0]["state"] == "pending"
    assert time.monotonic() - started < 1.0
    assert _only_event(admin)["deliveries"][0]["state"] == "delivered"


def test_reset_cancels_pending_deliveries(
    client: httpx2.Client, admin: SandboxAdmin, receiver: WebhookReceiver
) -> None:
    subscribe(client, receiver.url)
    scale = 0.4 / BASE_DELAY  # 0.4 s before the second attempt
    admin.webhook_settings(time_scale=scale)
    receiver.fail_next(10)
    _journey(admin, client)
    receiver.wait_for(1)
    deadline = time.monotonic() + 5
    while not (delivery := admin.webhook_events()[0]["deliveries"][0])["attempts"]:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    assert delivery["state"] == "pending"
    assert delivery["next_attempt_at"] is not None
    admin.reset()
    assert admin.webhook_events() == []
    assert admin.wait_for_deliveries() == []
    time.sleep(0.8)
    assert len(receiver.received) == 1
    assert admin.webhook_settings()["time_scale"] == scale  # a plain reset keeps settings


def test_wait_for_deliveries_times_out(
    client: httpx2.Client, admin: SandboxAdmin, receiver: WebhookReceiver
) -> None:
    subscribe(client, receiver.url)
    receiver.fail_next(1)
    _journey(admin, client)  # second attempt due in 2787 s
    with pytest.raises(TimeoutError, match="1 webhook deliveries still pending"):
        admin.wait_for_deliveries(timeout=0.3)
