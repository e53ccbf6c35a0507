from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx2
import pytest

from sandbox.testing import SandboxAdmin
from tests.sandbox.conftest import WS_A, WS_B
from tests.sandbox.helpers import assert_error, create_customer, new_phone

PHONE = "+13035551234"
INVALID = "invalid_request_error"

VALIDATION_CASES: list[tuple[str, Any, str, str | None]] = [
    # (case id, body, code, param)
    ("array body", [PHONE], "invalid_json", None),
    ("string body", "phone", "invalid_json", None),
    ("unknown field", {"phone": PHONE, "nickname": "Sam"}, "unknown_parameter", "nickname"),
    ("phone missing", {"email": "a@example.com"}, "parameter_missing", "phone"),
    ("phone not e164", {"phone": "3035551234"}, "invalid_phone", "phone"),
    ("phone number", {"phone": 13035551234}, "invalid_phone", "phone"),
    ("phone null", {"phone": None}, "invalid_phone", "phone"),
    ("phone leading zero", {"phone": "+03035551234"}, "invalid_phone", "phone"),
    ("phone too short", {"phone": "+1234567"}, "invalid_phone", "phone"),
    ("phone too long", {"phone": "+1234567890123456"}, "invalid_phone", "phone"),
    ("phone dashes", {"phone": "+1-303-555-1234"}, "invalid_phone", "phone"),
    ("phone newline", {"phone": PHONE + "\n"}, "invalid_phone", "phone"),
    ("email invalid", {"phone": PHONE, "email": "not-an-email"}, "invalid_email", "email"),
    ("email no domain", {"phone": PHONE, "email": "sam@"}, "invalid_email", "email"),
    ("email number", {"phone": PHONE, "email": 42}, "invalid_email", "email"),
    ("email null", {"phone": PHONE, "email": None}, "invalid_email", "email"),
    ("first_name number", {"phone": PHONE, "first_name": 5}, "invalid_first_name", "first_name"),
    (
        "first_name too long",
        {"phone": PHONE, "first_name": "x" * 101},
        "invalid_first_name",
        "first_name",
    ),
    ("consent string", {"phone": PHONE, "consent": "yes"}, "invalid_consent", "consent"),
    (
        "consent sms not bool",
        {"phone": PHONE, "consent": {"sms": "true", "source": "kiosk"}},
        "invalid_consent",
        "consent.sms",
    ),
    (
        "consent email not bool",
        {"phone": PHONE, "consent": {"email": 1}},
        "invalid_consent",
        "consent.email",
    ),
    (
        "consent unknown key",
        {"phone": PHONE, "consent": {"sms": False, "push": True}},
        "unknown_parameter",
        "consent.push",
    ),
    (
        "sms consent without source",
        {"phone": PHONE, "consent": {"sms": True}},
        "consent_source_required",
        "consent.source",
    ),
    (
        "consent empty source",
        {"phone": PHONE, "consent": {"sms": True, "source": ""}},
        "invalid_consent",
        "consent.source",
    ),
    (
        "consent source too long",
        {"phone": PHONE, "consent": {"email": True, "source": "s" * 201}},
        "invalid_consent",
        "consent.source",
    ),
    ("metadata array", {"phone": PHONE, "metadata": ["a"]}, "invalid_metadata", "metadata"),
    (
        "metadata too many",
        {"phone": PHONE, "metadata": {f"k{i}": "v" for i in range(51)}},
        "invalid_metadata",
        "metadata",
    ),
    ("metadata empty key", {"phone": PHONE, "metadata": {"": "v"}}, "invalid_metadata", "metadata"),
    (
        "metadata long key",
        {"phone": PHONE, "metadata": {"k" * 41: "v"}},
        "invalid_metadata",
        "metadata",
    ),
    (
        "metadata number value",
        {"phone": PHONE, "metadata": {"store": 7}},
        "invalid_metadata",
        "metadata.store",
    ),
    (
        "metadata long value",
        {"phone": PHONE, "metadata": {"note": "v" * 501}},
        "invalid_metadata",
        "metadata.note",
    ),
]


@pytest.mark.parametrize(
    ("body", "code", "param"),
    [case[1:] for case in VALIDATION_CASES],
    ids=[case[0] for case in VALIDATION_CASES],
)
def test_create_validation(
    client: httpx2.Client, admin: SandboxAdmin, body: Any, code: str, param: str | None
) -> None:
    assert_error(client.post("/v1/customers", json=body), 400, INVALID, code, param)
    assert admin.customers() == []


@pytest.mark.parametrize("raw", [b"", b"{not json", b"\xff\xfe"])
def test_create_rejects_non_json(client: httpx2.Client, raw: bytes) -> None:
    response = client.post("/v1/customers", content=raw)
    assert_error(response, 400, INVALID, "invalid_json")


VALID_CASES: list[dict[str, Any]] = [
    {"phone": "+12345678"},  # 8 digits: shortest E.164 accepted
    {"phone": "+123456789012345"},  # 15 digits: longest
    {"phone": PHONE, "first_name": ""},
    {"phone": PHONE, "first_name": "x" * 100},
    {"phone": PHONE, "consent": {"sms": False}},
    {"phone": PHONE, "consent": {"email": True}},
    {"phone": PHONE, "consent": {"sms": True, "email": False, "source": "s" * 200}},
    {"phone": PHONE, "metadata": {f"k{i}": "v" for i in range(50)}},
    {"phone": PHONE, "metadata": {"k" * 40: "v" * 500, "empty": ""}},
]


@pytest.mark.parametrize("body", VALID_CASES)
def test_create_accepts_edge_values(client: httpx2.Client, body: dict[str, Any]) -> None:
    assert client.post("/v1/customers", json=body).status_code == 201


def test_create_response_shape(client: httpx2.Client, admin: SandboxAdmin) -> None:
    body = {
        "phone": PHONE,
        "email": "Sam@Example.COM",
        "first_name": "Sam",
        "consent": {"sms": True, "source": "in-store-kiosk"},
        "metadata": {"pos_id": "123"},
    }
    response = client.post("/v1/customers", json=body)
    assert response.status_code == 201
    created = response.json()
    assert set(created) == {
        "id",
        "created_at",
        "phone",
        "email",
        "first_name",
        "tier",
        "points_balance",
    }
    assert created["id"].startswith("cus_") and len(created["id"]) == 14
    assert created["id"][4:].isalnum()
    assert created["phone"] == PHONE
    assert created["email"] == "sam@example.com"
    assert (created["first_name"], created["tier"], created["points_balance"]) == (
        "Sam",
        "bronze",
        0,
    )
    stamp = datetime.strptime(created["created_at"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert abs((datetime.now(UTC) - stamp).total_seconds()) < 5

    [stored] = admin.customers()
    assert stored["workspace"] == WS_A
    assert stored["consent"] == {"sms": True, "source": "in-store-kiosk"}
    assert stored["metadata"] == {"pos_id": "123"}
    assert stored["idempotency_key"] is None


def test_minimal_customer_has_null_optionals(client: httpx2.Client) -> None:
    created = client.post("/v1/customers", json={"phone": PHONE}).json()
    assert created["email"] is None and created["first_name"] is None


def test_dedupe_on_phone_returns_existing_and_applies_updates(
    client: httpx2.Client, admin: SandboxAdmin
) -> None:
    first = client.post(
        "/v1/customers",
        json={"phone": PHONE, "first_name": "Sam", "metadata": {"a": "1", "b": "2"}},
    )
    assert first.status_code == 201
    second = client.post(
        "/v1/customers",
        json={
            "phone": PHONE,
            "email": "SAM@example.com",
            "first_name": "Samantha",
            "consent": {"email": True, "source": "web"},
            "metadata": {"b": "20", "c": "3"},
        },
    )
    assert second.status_code == 200
    assert second.json()["id"] == first.json()["id"]
    assert second.json()["email"] == "sam@example.com"
    assert second.json()["first_name"] == "Samantha"
    assert second.json()["created_at"] == first.json()["created_at"]

    [stored] = admin.customers(WS_A)
    assert stored["metadata"] == {"a": "1", "b": "20", "c": "3"}
    assert stored["consent"] == {"email": True, "source": "web"}

    # a bare repeat changes nothing
    third = client.post("/v1/customers", json={"phone": PHONE})
    assert third.status_code == 200
    assert third.json() == second.json()

    stats = admin.workspace_stats(WS_A)
    assert (stats["customers_created"], stats["customers_deduplicated"]) == (1, 2)
    assert (stats["accepted"], stats["requests"]) == (3, 3)


def test_workspaces_are_isolated(
    client: httpx2.Client, client_b: httpx2.Client, admin: SandboxAdmin
) -> None:
    a = client.post("/v1/customers", json={"phone": PHONE, "first_name": "A"})
    b = client_b.post("/v1/customers", json={"phone": PHONE, "first_name": "B"})
    assert (a.status_code, b.status_code) == (201, 201)
    assert a.json()["id"] != b.json()["id"]
    assert [c["first_name"] for c in client_b.get("/v1/customers").json()["data"]] == ["B"]
    assert [c["workspace"] for c in admin.customers(WS_B)] == [WS_B]
    assert len(admin.customers()) == 2
    # a customer id from another workspace is unknown here
    response = client_b.post("/v1/events", json={"type": "visit", "customer_id": a.json()["id"]})
    assert_error(response, 400, INVALID, "customer_not_found", "customer_id")
    assert set(admin.stats()["workspaces"]) == {WS_A, WS_B}


def test_list_pagination(client: httpx2.Client) -> None:
    ids = [create_customer(client)["id"] for _ in range(25)]

    default = client.get("/v1/customers").json()
    assert default["object"] == "list"
    assert [c["id"] for c in default["data"]] == ids[:10]
    assert default["has_more"] is True

    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        params: dict[str, str | int] = {"limit": 7}
        if cursor is not None:
            params["starting_after"] = cursor
        page = client.get("/v1/customers", params=params).json()
        pages += 1
        seen.extend(c["id"] for c in page["data"])
        if not page["has_more"]:
            break
        cursor = page["data"][-1]["id"]
    assert seen == ids
    assert pages == 4

    exact = client.get("/v1/customers", params={"limit": 5, "starting_after": ids[19]}).json()
    assert ([c["id"] for c in exact["data"]], exact["has_more"]) == (ids[20:], False)
    last = client.get("/v1/customers", params={"starting_after": ids[-1]}).json()
    assert (last["data"], last["has_more"]) == ([], False)
    everything = client.get("/v1/customers", params={"limit": 100}).json()
    assert len(everything["data"]) == 25 and everything["has_more"] is False


def test_list_phone_filter(client: httpx2.Client) -> None:
    first = create_customer(client)
    second = create_customer(client)
    found = client.get("/v1/customers", params={"phone": second["phone"]}).json()
    assert [c["id"] for c in found["data"]] == [second["id"]]
    assert found["has_more"] is False
    none = client.get("/v1/customers", params={"phone": new_phone()}).json()
    assert none["data"] == []
    after = client.get(
        "/v1/customers", params={"phone": first["phone"], "starting_after": second["id"]}
    ).json()
    assert after["data"] == []


@pytest.mark.parametrize(
    ("params", "code", "param"),
    [
        ({"limit": "0"}, "invalid_limit", "limit"),
        ({"limit": "101"}, "invalid_limit", "limit"),
        ({"limit": "ten"}, "invalid_limit", "limit"),
        ({"limit": "-1"}, "invalid_limit", "limit"),
        ({"limit": ""}, "invalid_limit", "limit"),
        ({"starting_after": "cus_missing000"}, "customer_not_found", "starting_after"),
        ({"email": "a@b.co"}, "unknown_parameter", "email"),
    ],
)
def test_list_validation(
    client: httpx2.Client, params: dict[str, str], code: str, param: str
) -> None:
    assert_error(client.get("/v1/customers", params=params), 400, INVALID, code, param)


def test_list_is_workspace_scoped(client: httpx2.Client, client_b: httpx2.Client) -> None:
    create_customer(client)
    assert client_b.get("/v1/customers").json()["data"] == []
