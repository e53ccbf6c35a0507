"""Sticker: /_sandbox/organizations, /_sandbox/sticker/requests, stats, reset."""

from __future__ import annotations

import httpx2

from sandbox import RunningSandbox
from sandbox.testing import SandboxAdmin
from tests.sandbox.helpers import create_customer
from tests.sandbox.sticker_support import MILLIS, SETUP, doc_body, minimal_body

STICKER_STAT_KEYS = {
    "requests",
    "accepted",
    "rejected",
    "rate_limited",
    "server_errors",
    "dropped",
    "organizations_created",
    "profiles_created",
    "conflicts",
    "validation_errors",
    "setup_errors",
    "peak_window",
}


def test_organizations_dump(sticker: httpx2.Client, admin: SandboxAdmin) -> None:
    created = sticker.post(SETUP, json=doc_body()).json()["data"]
    sticker.post(SETUP, json=minimal_body("org-2"))
    first, second = admin.organizations()  # creation order
    assert (first["internalOrgId"], second["internalOrgId"]) == ("org-12345", "org-2")
    assert set(first) == {
        "id",
        "partner",
        "name",
        "internalOrgId",
        "stripeCustomerId",
        "organizationEmail",
        "organizationPhone",
        "billingAddress",
        "createdAt",
        "profiles",
        "shippingLocations",
    }
    assert first["id"] == created["organization"]["id"]
    assert first["partner"] == created["profile"]["partner"]
    assert MILLIS.fullmatch(first["createdAt"])
    assert (first["organizationEmail"], first["organizationPhone"]) == (
        "billing@acmemedical.com",
        "+1-555-0100",
    )
    assert first["billingAddress"]["province"] == "California"
    [profile] = first["profiles"]
    assert profile == {
        **created["profile"],
        "userAddress": {
            "line1": "456 User Street",
            "line2": "Apt 2B",
            "city": "San Francisco",
            "province": "California",
            "postalCode": "94102",
            "country": "United States",
        },
    }
    [loc] = first["shippingLocations"]
    assert loc.pop("createdAt")
    assert loc == {
        **created["shippingLocations"][0],
        "contact": {
            "name": "Office Manager",
            "phone": "+1-555-0101",
            "email": "office@acmemedical.com",
        },
        "deliveryInstructions": "Ring bell, leave at front desk",
    }
    assert [o["internalOrgId"] for o in admin.organizations("org-2")] == ["org-2"]
    assert admin.organizations("unknown") == []


def test_requests_log(sticker: httpx2.Client, admin: SandboxAdmin) -> None:
    body = minimal_body()
    sticker.post(SETUP, json=body)
    sticker.post(SETUP, json=body)
    sticker.post(SETUP, json={**body, "internalUserId": 5})
    sticker.get(SETUP)  # 405: not a setup request
    logged = admin.sticker_requests()
    for entry in logged:
        assert set(entry) == {
            "status",
            "code",
            "internalOrgId",
            "internalUserId",
            "ignoredFields",
            "committed",
            "at",
        }
        assert MILLIS.fullmatch(entry["at"])
    assert [(e["status"], e["code"], e["internalUserId"]) for e in logged] == [
        (200, None, body["internalUserId"]),
        (409, "USER_ALREADY_EXISTS", body["internalUserId"]),
        (400, "VALIDATION_ERROR", None),
    ]


def test_stats(
    sandbox: RunningSandbox, sticker: httpx2.Client, client: httpx2.Client, admin: SandboxAdmin
) -> None:
    assert admin.sticker_stats() == dict.fromkeys(STICKER_STAT_KEYS, 0)
    body = minimal_body()
    sticker.post(SETUP, json=body)
    sticker.post(SETUP, json=minimal_body(body["internalOrgId"]))
    sticker.post(SETUP, json=body)
    sticker.post(SETUP, json={})
    sticker.get("/v1/x")
    httpx2.post(f"{sandbox.base_url}/sticker{SETUP}", json=body)  # 401
    create_customer(client)
    stats = admin.sticker_stats()
    assert stats == {
        **dict.fromkeys(STICKER_STAT_KEYS, 0),
        "requests": 6,
        "accepted": 2,
        "rejected": 4,
        "organizations_created": 1,
        "profiles_created": 2,
        "conflicts": 1,
        "validation_errors": 1,
        "peak_window": 5,
    }
    sticky = admin.stats()
    assert sticky["totals"]["requests"] == 1  # Sticker traffic is not in the Sticky counters
    assert sticky["sticker"] == stats


def test_inspection_needs_no_auth(sandbox: RunningSandbox, sticker: httpx2.Client) -> None:
    sticker.post(SETUP, json=minimal_body())
    for path in ("organizations", "sticker/requests", "stats"):
        response = httpx2.get(f"{sandbox.base_url}/_sandbox/{path}")
        assert response.status_code == 200


def test_reset_clears_sticker_state(
    sticker: httpx2.Client, client: httpx2.Client, admin: SandboxAdmin
) -> None:
    body = minimal_body()
    sticker.post(SETUP, json=body)
    create_customer(client)
    admin.reset()
    assert admin.organizations() == []
    assert admin.sticker_requests() == []
    assert admin.sticker_stats() == dict.fromkeys(STICKER_STAT_KEYS, 0)
    assert admin.customers() == []
    again = sticker.post(SETUP, json=body)  # the org is gone: created anew
    assert again.json()["data"]["isNewOrganization"] is True
