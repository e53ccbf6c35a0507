"""Sticker: new organizations, users added to existing ones, 409 for a known user."""

from __future__ import annotations

import asyncio

import httpx2

from sandbox import RunningSandbox
from sandbox.testing import SandboxAdmin, sticker_async_client, sticker_client
from tests.sandbox.sticker_support import (
    ANY_UUID,
    MILLIS,
    SETUP,
    STRIPE_ID,
    UUID,
    address,
    assert_sticker_error,
    doc_body,
    location,
    minimal_body,
)


def test_new_organization_has_the_doc_response_shape(sticker: httpx2.Client) -> None:
    response = sticker.post(SETUP, json=doc_body())
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"success", "data"}
    assert body["success"] is True
    data = body["data"]
    assert set(data) == {"organization", "profile", "shippingLocations", "isNewOrganization"}
    assert data["isNewOrganization"] is True

    organization = data["organization"]
    assert set(organization) == {"id", "name", "internalOrgId", "stripeCustomerId"}
    assert UUID.fullmatch(organization["id"])
    assert STRIPE_ID.fullmatch(organization["stripeCustomerId"])
    assert (organization["name"], organization["internalOrgId"]) == (
        "Acme Medical Practice",
        "org-12345",
    )

    profile = data["profile"]
    assert set(profile) == {
        "id",
        "partner",
        "organization",
        "internal_user_id",
        "user",
        "first_name",
        "last_name",
        "email",
        "phone_number",
        "created_at",
    }
    for key in ("id", "partner", "user"):
        assert ANY_UUID.fullmatch(profile[key]), key
    assert UUID.fullmatch(profile["id"]) and UUID.fullmatch(profile["user"])
    assert profile["organization"] == organization["id"]
    assert MILLIS.fullmatch(profile["created_at"])
    assert {k: profile[k] for k in ("internal_user_id", "first_name", "last_name")} == {
        "internal_user_id": "user-789",
        "first_name": "Jane",
        "last_name": "Smith",
    }
    assert (profile["email"], profile["phone_number"]) == ("jane@acmemedical.com", "+1-555-0100")

    [loc] = data["shippingLocations"]
    assert UUID.fullmatch(loc.pop("id"))
    assert loc == {
        "name": "Main Office",
        "nickname": "HQ",
        "internalShippingLocationId": "loc-001",
        "address": {
            "line1": "123 Medical Plaza",
            "line2": "Suite 200",
            "city": "San Francisco",
            "province": "California",  # sent as "CA"
            "postalCode": "94102",
            "country": "United States",
        },
        "isDefault": True,
        "isActive": True,
    }


def test_minimal_new_organization(sticker: httpx2.Client, admin: SandboxAdmin) -> None:
    body = minimal_body()
    data = sticker.post(SETUP, json=body).json()["data"]
    assert data["shippingLocations"] == []
    assert data["profile"]["phone_number"] is None
    [org] = admin.organizations()
    assert (org["organizationEmail"], org["organizationPhone"], org["billingAddress"]) == (
        None,
        None,
        None,
    )
    assert org["profiles"][0]["userAddress"] is None


def test_location_defaults(sticker: httpx2.Client) -> None:
    body = minimal_body()
    body["shippingLocations"] = [
        {"internalShippingLocationId": "l1", "name": "Depot", "address": address()}
    ]
    [loc] = sticker.post(SETUP, json=body).json()["data"]["shippingLocations"]
    assert (loc["nickname"], loc["isDefault"], loc["isActive"]) == (None, False, True)


def test_second_user_joins_the_existing_organization(
    sticker: httpx2.Client, admin: SandboxAdmin
) -> None:
    first = doc_body()
    first["shippingLocations"].append(location("loc-002", name="Warehouse", isDefault=False))
    created = sticker.post(SETUP, json=first).json()["data"]

    second = doc_body()
    second["internalUserId"] = "user-790"
    second["organizationName"] = "Renamed Practice"
    second["user"] = {"firstName": "Joe", "lastName": "Doe", "email": "joe@acmemedical.com"}
    second["shippingLocations"] = [location("loc-999", name="Ignored", isDefault=False)]
    second["billingAddress"] = address(city="Ignored City")
    second["organizationEmail"] = "ignored@acmemedical.com"
    response = sticker.post(SETUP, json=second)
    assert response.status_code == 200, response.text
    joined = response.json()["data"]

    assert joined["isNewOrganization"] is False
    assert joined["organization"] == created["organization"]  # name unchanged
    assert joined["shippingLocations"] == created["shippingLocations"]  # all existing, no new
    assert [loc["internalShippingLocationId"] for loc in joined["shippingLocations"]] == [
        "loc-001",
        "loc-002",
    ]
    assert joined["profile"]["id"] != created["profile"]["id"]
    assert joined["profile"]["organization"] == created["organization"]["id"]
    assert joined["profile"]["internal_user_id"] == "user-790"

    [org] = admin.organizations()
    assert [p["internal_user_id"] for p in org["profiles"]] == ["user-789", "user-790"]
    assert org["billingAddress"]["city"] == "San Francisco"
    assert org["organizationEmail"] == "billing@acmemedical.com"
    stats = admin.sticker_stats()
    assert (stats["organizations_created"], stats["profiles_created"]) == (1, 2)


def test_existing_user_gets_409_with_profile_id(
    sticker: httpx2.Client, admin: SandboxAdmin
) -> None:
    created = sticker.post(SETUP, json=doc_body()).json()["data"]
    again = doc_body()
    again["user"]["email"] = "other@acmemedical.com"  # the 409 names the stored email
    response = sticker.post(SETUP, json=again)
    body = assert_sticker_error(response, 409, "Conflict", "USER_ALREADY_EXISTS")
    assert body == {
        "error": "Conflict",
        "message": "User already exists in this organization",
        "code": "USER_ALREADY_EXISTS",
        "data": {"profileId": created["profile"]["id"], "email": "jane@acmemedical.com"},
    }
    [org] = admin.organizations()
    assert len(org["profiles"]) == 1
    stats = admin.sticker_stats()
    assert (stats["conflicts"], stats["rejected"], stats["profiles_created"]) == (1, 1, 1)


def test_same_user_id_in_another_organization_is_a_new_profile(sticker: httpx2.Client) -> None:
    one = sticker.post(SETUP, json=minimal_body("org-a", "user-1")).json()["data"]
    two = sticker.post(SETUP, json=minimal_body("org-b", "user-1")).json()["data"]
    assert two["isNewOrganization"] is True
    assert one["organization"]["id"] != two["organization"]["id"]
    assert one["organization"]["stripeCustomerId"] != two["organization"]["stripeCustomerId"]


def test_internal_ids_are_exact_strings(sticker: httpx2.Client) -> None:
    sticker.post(SETUP, json=minimal_body("Org-A", "u"))
    other = sticker.post(SETUP, json=minimal_body("org-a", "u")).json()["data"]
    assert other["isNewOrganization"] is True  # case matters


def test_auth_user_is_shared_by_email(sticker: httpx2.Client) -> None:
    a = minimal_body("org-a", "u1")
    b = minimal_body("org-b", "u2")
    b["user"]["email"] = a["user"]["email"].upper()
    c = minimal_body("org-c", "u3")
    user_a = sticker.post(SETUP, json=a).json()["data"]["profile"]["user"]
    user_b = sticker.post(SETUP, json=b).json()["data"]["profile"]["user"]
    user_c = sticker.post(SETUP, json=c).json()["data"]["profile"]["user"]
    assert user_a == user_b != user_c


def test_organizations_belong_to_the_partner_key(
    sandbox: RunningSandbox, sticker: httpx2.Client, admin: SandboxAdmin
) -> None:
    body = minimal_body("org-shared", "user-1")
    mine = sticker.post(SETUP, json=body).json()["data"]
    with sticker_client(sandbox, "sk_live_other_partner") as other:
        theirs = other.post(SETUP, json=body).json()["data"]
    assert theirs["isNewOrganization"] is True
    assert theirs["organization"]["id"] != mine["organization"]["id"]
    assert theirs["profile"]["partner"] != mine["profile"]["partner"]
    # the partner id is stable per key
    again = sticker.post(SETUP, json=minimal_body("org-shared", "user-2")).json()["data"]
    assert again["profile"]["partner"] == mine["profile"]["partner"]
    assert len(admin.organizations()) == 2
    assert len(admin.organizations("org-shared")) == 2


def test_values_are_stored_as_sent(sticker: httpx2.Client, admin: SandboxAdmin) -> None:
    body = minimal_body()
    body["user"]["email"] = "Jane.Smith@Example.COM"
    body["organizationName"] = "  Spaced  "
    data = sticker.post(SETUP, json=body).json()["data"]
    assert data["profile"]["email"] == "Jane.Smith@Example.COM"
    assert data["organization"]["name"] == "  Spaced  "


async def test_concurrent_setups_of_one_user(sandbox: RunningSandbox, admin: SandboxAdmin) -> None:
    body = minimal_body()
    admin.set_faults(latency_ms=50)  # both requests are in flight at the same time
    async with sticker_async_client(sandbox) as client:
        responses = await asyncio.gather(*(client.post(SETUP, json=body) for _ in range(2)))
    assert sorted(r.status_code for r in responses) == [200, 409]
    [org] = admin.organizations()
    assert len(org["profiles"]) == 1
