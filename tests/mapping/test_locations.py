"""Store rows → Sticker shipping locations, and the setup request (pure)."""

from __future__ import annotations

from typing import Any

import pytest

from adapters.records import LocationRecord, Origin
from connector.errors import InvalidRecord
from connector.mapping.context import MappingContext
from connector.mapping.locations import (
    AddressText,
    contact_phone,
    default_flags,
    map_location,
    sticker_address,
)
from connector.mapping.organization import (
    OrganizationFacts,
    StickerUser,
    location_view,
    setup_request,
    user_part,
)

CTX = MappingContext(tenant="t", source="pos")
ORIGIN = Origin(source="pos", stream="locations", locator="stores.csv row 1")


def store(**fields: str | None) -> LocationRecord:
    values: dict[str, str | None] = {
        "store_id": "001", "name": "Downtown", "address1": "12  Main St", "city": "Oakland",
        "state": "Calif.", "zip": "94607"}
    values.update(fields)
    return LocationRecord(origin=ORIGIN, **values)  # type: ignore[arg-type]


def test_a_store_row_maps_to_the_documented_shipping_location() -> None:
    mapped = map_location(store(address2="Suite 4", nickname="DT", is_default="yes",
                                contact_name="Office", phone="1-800-555-0199",
                                email="Store@Example.com", delivery_instructions="Back door"),
                          CTX)
    assert mapped.key == "001" and mapped.warnings == []
    assert mapped.payload == {
        "internalShippingLocationId": "001", "name": "Downtown", "nickname": "DT",
        "address": {"line1": "12 Main St", "line2": "Suite 4", "city": "Oakland",
                    "province": "California", "postalCode": "94607",
                    "country": "United States"},
        # A toll-free number is a fine store phone (never a customer's).
        "contact": {"name": "Office", "phone": "+18005550199", "email": "store@example.com"},
        "isDefault": True, "deliveryInstructions": "Back door"}


@pytest.mark.parametrize(("fields", "reason", "field"), [
    ({"store_id": " "}, "missing_store_id", "store_id"),
    ({"name": "N/A"}, "missing_name", "name"),
    ({"address1": None}, "missing_address1", "address1"),
    ({"city": ""}, "missing_city", "city"),
    ({"state": "PR"}, "unsupported_state", "state"),
    ({"state": "AE"}, "unsupported_state", "state"),
    ({"state": "Narnia"}, "unknown_state", "state"),
    ({"state": "W Virginia", "zip": "2501"}, "invalid_zip", "zip"),
    ({"zip": "9460"}, "invalid_zip", "zip"),
    ({"country": "Canada"}, "unsupported_country", "country"),
    ({"is_default": "maybe"}, "invalid_boolean", "is_default"),
    ({"name": "x" * 300}, "value_too_long", "name"),
])
def test_untrustworthy_store_rows_are_rejected_naming_the_field(
        fields: dict[str, str | None], reason: str, field: str) -> None:
    with pytest.raises(InvalidRecord) as caught:
        map_location(store(**fields), CTX)
    assert (caught.value.reason, caught.value.field) == (reason, field)


def test_west_virginia_is_spelled_out_not_guessed_into_virginia() -> None:
    address = sticker_address(AddressText("1 Capitol St", None, "Charleston", "W Virginia",
                                          "25301"))
    assert address["province"] == "West Virginia"


@pytest.mark.parametrize(("raw", "expected"), [
    ("N. Carolina", "North Carolina"), ("washington dc", "District of Columbia"),
    ("CA", "California"), ("Calif.", "California"), ("tex.", "Texas")])
def test_state_aliases_end_as_full_names(raw: str, expected: str) -> None:
    address = sticker_address(AddressText("1 A St", None, "Town", raw, "02116"))
    assert address["province"] == expected


def test_a_leading_zero_lost_by_excel_is_restored_for_zero_zip_states() -> None:
    address = sticker_address(AddressText("1 A St", None, "Boston", "MA", "2116"))
    assert address["postalCode"] == "02116"
    plus4 = sticker_address(AddressText("1 A St", None, "Oakland", "CA", "946071234"))
    assert plus4["postalCode"] == "94607-1234"


def test_unreadable_contact_fields_are_left_out_with_a_warning() -> None:
    mapped = map_location(store(phone="12", email="not-an-email"), CTX)
    assert "contact" not in mapped.payload
    assert mapped.warnings == ["store_phone_unreadable", "store_email_invalid"]
    assert contact_phone("(415) 555-0101", "US") == "+14155550101"


def test_at_most_one_default_location() -> None:
    flagged = {"002": {"isDefault": True}, "001": {"isDefault": False},
               "003": {"isDefault": True}}
    assert {k: v["isDefault"] for k, v in default_flags(flagged, None).items()} == {
        "001": False, "002": True, "003": False}
    assert {k: v["isDefault"] for k, v in default_flags(flagged, "001").items()} == {
        "001": True, "002": False, "003": False}


def test_the_setup_request_carries_the_org_the_user_and_every_store() -> None:
    org = OrganizationFacts(
        internal_org_id="kendalls", name="Kendall's", users=(),
        billing_address={"line1": "1 A St", "city": "Oakland", "province": "California",
                         "postalCode": "94607", "country": "United States"},
        email="billing@example.com", phone="+14155550100")
    user = StickerUser("owner", "Dana", "Kendall", "dana@example.com", "+14155550101")
    stores = {"002": map_location(store(store_id="002"), CTX).payload,
              "001": map_location(store(), CTX).payload}
    body = setup_request(org, user, stores)
    assert list(body) == ["internalOrgId", "organizationName", "internalUserId", "user",
                          "shippingLocations", "billingAddress", "organizationEmail",
                          "organizationPhone"]
    assert body["user"] == {"firstName": "Dana", "lastName": "Kendall",
                            "email": "dana@example.com", "phoneNumber": "+14155550101"}
    assert [s["internalShippingLocationId"] for s in body["shippingLocations"]] == [
        "001", "002"]
    assert user_part(body) == {"internalOrgId": "kendalls", "internalUserId": "owner",
                               "user": body["user"]}
    assert "shippingLocations" not in setup_request(org, user, {})


def test_location_view_ignores_what_sticker_fills_in() -> None:
    ours = map_location(store(), CTX).payload
    theirs: dict[str, Any] = {"id": "uuid", "name": "Downtown", "isActive": True,
              "address": {**ours["address"], "line2": None}}
    assert location_view(theirs) == location_view(ours)
    moved = {**theirs, "address": {**theirs["address"], "line1": "99 Other St"}}
    assert location_view(moved) != location_view(ours)
