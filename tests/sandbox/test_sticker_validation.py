"""Sticker: zod-style VALIDATION_ERROR details for every rule, all problems at once."""

from __future__ import annotations

import json
from typing import Any

import httpx2
import pytest

from sandbox.testing import SandboxAdmin, sticker_headers
from tests.sandbox.sticker_support import (
    DELETE,
    SETUP,
    details,
    doc_body,
    issue_paths,
    location,
    minimal_body,
    with_changes,
)

REQUIRED = {"code": "invalid_type", "message": "Required"}
TOO_SMALL = {"code": "too_small", "message": "String must contain at least 1 character(s)"}
BAD_EMAIL = {"code": "invalid_string", "message": "Invalid email"}
BAD_STATE = {"code": "custom", "message": "Invalid US state"}
BAD_COUNTRY = {"code": "custom", "message": "Invalid country: only the United States is supported"}


def expected_type(expected: str, received: str) -> dict[str, str]:
    return {"code": "invalid_type", "message": f"Expected {expected}, received {received}"}


SL0 = ("shippingLocations", 0)
SL0_ADDRESS = (*SL0, "address")

# (change to the doc body, expected issue without its path, path)
CASES: list[tuple[tuple[tuple[str | int, ...], Any], dict[str, str], list[str | int]]] = [
    # required top-level fields
    ((("internalOrgId",), DELETE), REQUIRED, ["internalOrgId"]),
    ((("organizationName",), DELETE), REQUIRED, ["organizationName"]),
    ((("internalUserId",), DELETE), REQUIRED, ["internalUserId"]),
    ((("user",), DELETE), REQUIRED, ["user"]),
    ((("user", "firstName"), DELETE), REQUIRED, ["user", "firstName"]),
    ((("user", "lastName"), DELETE), REQUIRED, ["user", "lastName"]),
    ((("user", "email"), DELETE), REQUIRED, ["user", "email"]),
    # wrong types
    ((("internalOrgId",), 12345), expected_type("string", "number"), ["internalOrgId"]),
    ((("internalUserId",), 7.5), expected_type("string", "number"), ["internalUserId"]),
    ((("organizationName",), True), expected_type("string", "boolean"), ["organizationName"]),
    ((("organizationName",), None), expected_type("string", "null"), ["organizationName"]),
    ((("user",), "jane"), expected_type("object", "string"), ["user"]),
    ((("user",), ["jane"]), expected_type("object", "array"), ["user"]),
    ((("user", "email"), 5), expected_type("string", "number"), ["user", "email"]),
    (
        (("user", "phoneNumber"), 5550100),
        expected_type("string", "number"),
        ["user", "phoneNumber"],
    ),
    ((("user", "phoneNumber"), None), expected_type("string", "null"), ["user", "phoneNumber"]),
    ((("organizationPhone",), None), expected_type("string", "null"), ["organizationPhone"]),
    ((("userAddress",), "somewhere"), expected_type("object", "string"), ["userAddress"]),
    ((("billingAddress",), None), expected_type("object", "null"), ["billingAddress"]),
    ((("shippingLocations",), {}), expected_type("array", "object"), ["shippingLocations"]),
    ((("shippingLocations",), None), expected_type("array", "null"), ["shippingLocations"]),
    ((("shippingLocations", 0), "loc"), expected_type("object", "string"), list(SL0)),
    (((*SL0, "isDefault"), "true"), expected_type("boolean", "string"), [*SL0, "isDefault"]),
    (((*SL0, "nickname"), None), expected_type("string", "null"), [*SL0, "nickname"]),
    (((*SL0, "contact"), "Bob"), expected_type("object", "string"), [*SL0, "contact"]),
    (
        ((*SL0, "contact", "phone"), 1),
        expected_type("string", "number"),
        [*SL0, "contact", "phone"],
    ),
    (
        ((*SL0, "deliveryInstructions"), 1),
        expected_type("string", "number"),
        [*SL0, "deliveryInstructions"],
    ),
    # empty required strings
    ((("internalOrgId",), ""), TOO_SMALL, ["internalOrgId"]),
    ((("organizationName",), "   "), TOO_SMALL, ["organizationName"]),
    ((("user", "firstName"), ""), TOO_SMALL, ["user", "firstName"]),
    (((*SL0, "internalShippingLocationId"), ""), TOO_SMALL, [*SL0, "internalShippingLocationId"]),
    (((*SL0, "name"), ""), TOO_SMALL, [*SL0, "name"]),
    (((*SL0_ADDRESS, "line1"), ""), TOO_SMALL, [*SL0_ADDRESS, "line1"]),
    (((*SL0_ADDRESS, "province"), ""), TOO_SMALL, [*SL0_ADDRESS, "province"]),
    # emails
    ((("user", "email"), "not-an-email"), BAD_EMAIL, ["user", "email"]),
    ((("user", "email"), ""), BAD_EMAIL, ["user", "email"]),
    ((("user", "email"), "jane@"), BAD_EMAIL, ["user", "email"]),
    ((("organizationEmail",), "billing"), BAD_EMAIL, ["organizationEmail"]),
    (((*SL0, "contact", "email"), "office@"), BAD_EMAIL, [*SL0, "contact", "email"]),
    # shipping location required fields
    (
        ((*SL0, "internalShippingLocationId"), DELETE),
        REQUIRED,
        [*SL0, "internalShippingLocationId"],
    ),
    (((*SL0, "name"), DELETE), REQUIRED, [*SL0, "name"]),
    (((*SL0, "address"), DELETE), REQUIRED, [*SL0_ADDRESS]),
    # address required fields, on each kind of address
    (((*SL0_ADDRESS, "line1"), DELETE), REQUIRED, [*SL0_ADDRESS, "line1"]),
    (((*SL0_ADDRESS, "city"), DELETE), REQUIRED, [*SL0_ADDRESS, "city"]),
    (((*SL0_ADDRESS, "province"), DELETE), REQUIRED, [*SL0_ADDRESS, "province"]),
    (((*SL0_ADDRESS, "postalCode"), DELETE), REQUIRED, [*SL0_ADDRESS, "postalCode"]),
    ((("userAddress", "city"), DELETE), REQUIRED, ["userAddress", "city"]),
    (
        (("billingAddress", "postalCode"), 94102),
        expected_type("string", "number"),
        ["billingAddress", "postalCode"],
    ),
    (
        (("billingAddress", "line2"), None),
        expected_type("string", "null"),
        ["billingAddress", "line2"],
    ),
    # state and country
    (((*SL0_ADDRESS, "province"), "Californa"), BAD_STATE, [*SL0_ADDRESS, "province"]),
    (((*SL0_ADDRESS, "province"), "ZZ"), BAD_STATE, [*SL0_ADDRESS, "province"]),
    ((("userAddress", "province"), "Ontario"), BAD_STATE, ["userAddress", "province"]),
    ((("billingAddress", "province"), "PR"), BAD_STATE, ["billingAddress", "province"]),
    (((*SL0_ADDRESS, "country"), "Canada"), BAD_COUNTRY, [*SL0_ADDRESS, "country"]),
    ((("billingAddress", "country"), ""), BAD_COUNTRY, ["billingAddress", "country"]),
    ((("userAddress", "country"), "U.S."), BAD_COUNTRY, ["userAddress", "country"]),
    (
        (("userAddress", "country"), 1),
        expected_type("string", "number"),
        ["userAddress", "country"],
    ),
]


@pytest.mark.parametrize(
    ("change", "issue", "path"),
    CASES,
    ids=[f"{'.'.join(map(str, c[2]))}-{i}" for i, c in enumerate(CASES)],
)
def test_one_rule(
    sticker: httpx2.Client,
    admin: SandboxAdmin,
    change: tuple[tuple[str | int, ...], Any],
    issue: dict[str, str],
    path: list[str | int],
) -> None:
    response = sticker.post(SETUP, json=with_changes(doc_body(), change))
    assert details(response) == [{**issue, "path": path}]
    assert admin.organizations() == []
    assert admin.sticker_stats()["validation_errors"] == 1


def test_every_problem_is_reported_in_schema_order(sticker: httpx2.Client) -> None:
    body = {
        "organizationName": 5,
        "internalUserId": "",
        "user": {"firstName": "Jane", "email": "nope"},
        "shippingLocations": [
            location("a"),
            {"name": "Depot", "address": {"line1": "1 Road", "province": "XX"}},
        ],
        "billingAddress": {
            "line1": "x",
            "city": "y",
            "province": "ny",
            "postalCode": "1",
            "country": "Mexico",
        },
        "organizationEmail": "@",
    }
    sl1 = ["shippingLocations", 1]
    assert details(sticker.post(SETUP, json=body)) == [
        {**REQUIRED, "path": ["internalOrgId"]},
        {**expected_type("string", "number"), "path": ["organizationName"]},
        {**TOO_SMALL, "path": ["internalUserId"]},
        {**REQUIRED, "path": ["user", "lastName"]},
        {**BAD_EMAIL, "path": ["user", "email"]},
        {**REQUIRED, "path": [*sl1, "internalShippingLocationId"]},
        {**REQUIRED, "path": [*sl1, "address", "city"]},
        {**BAD_STATE, "path": [*sl1, "address", "province"]},
        {**REQUIRED, "path": [*sl1, "address", "postalCode"]},
        {**BAD_COUNTRY, "path": ["billingAddress", "country"]},
        {**BAD_EMAIL, "path": ["organizationEmail"]},
    ]


@pytest.mark.parametrize(
    ("content", "content_type", "issue"),
    [
        (b"[]", "application/json", expected_type("object", "array")),
        (b'"org"', "application/json", expected_type("object", "string")),
        (b"null", "application/json", expected_type("object", "null")),
        (b"42", "application/json", expected_type("object", "number")),
        (b"", "application/json", REQUIRED),
        (
            b'{"internalOrgId": ',
            "application/json",
            {"code": "custom", "message": "Malformed JSON body"},
        ),
        (b'{"internalOrgId": "x"}', "text/plain", REQUIRED),
        (b"internalOrgId=x", "application/x-www-form-urlencoded", REQUIRED),
    ],
)
def test_body_must_be_a_json_object(
    sticker: httpx2.Client,
    admin: SandboxAdmin,
    content: bytes,
    content_type: str,
    issue: dict[str, str],
) -> None:
    headers = {**sticker_headers(), "Content-Type": content_type}
    response = sticker.post(SETUP, content=content, headers=headers)
    assert details(response) == [{**issue, "path": []}]
    [logged] = admin.sticker_requests()
    assert (logged["status"], logged["code"]) == (400, "VALIDATION_ERROR")


def test_json_content_type_with_charset_is_fine(sticker: httpx2.Client) -> None:
    headers = {**sticker_headers(), "Content-Type": "Application/JSON; charset=utf-8"}
    response = sticker.post(SETUP, content=json.dumps(minimal_body()).encode(), headers=headers)
    assert response.status_code == 200, response.text


def test_duplicate_location_ids_in_one_request(sticker: httpx2.Client) -> None:
    body = {
        **minimal_body(),
        "shippingLocations": [
            location("a", isDefault=False),
            location("b", isDefault=False),
            location("a", isDefault=False),
        ],
    }
    assert details(sticker.post(SETUP, json=body)) == [
        {
            "code": "custom",
            "message": "Duplicate internalShippingLocationId in this request",
            "path": ["shippingLocations", 2, "internalShippingLocationId"],
        }
    ]


def test_at_most_one_default_location(sticker: httpx2.Client) -> None:
    body = {
        **minimal_body(),
        "shippingLocations": [location("a"), location("b", isDefault=False), location("c")],
    }
    assert details(sticker.post(SETUP, json=body)) == [
        {
            "code": "custom",
            "message": "Only one shipping location can be the default",
            "path": ["shippingLocations", 2, "isDefault"],
        }
    ]


def test_unknown_fields_are_ignored_and_recorded(
    sticker: httpx2.Client, admin: SandboxAdmin
) -> None:
    body = doc_body()
    body["middleName"] = "Q"
    body["user"]["title"] = "Dr"
    body["shippingLocations"][0]["address"]["zip"] = "94102"
    body["shippingLocations"][0]["contact"]["fax"] = "none"
    body["billingAddress"]["state"] = "CA"
    response = sticker.post(SETUP, json=body)
    assert response.status_code == 200, response.text
    assert "middleName" not in response.text and "zip" not in response.text
    [logged] = admin.sticker_requests()
    assert logged["ignoredFields"] == [
        "middleName",
        "user.title",
        "shippingLocations[0].address.zip",
        "shippingLocations[0].contact.fax",
        "billingAddress.state",
    ]
    [org] = admin.organizations()
    assert "state" not in org["billingAddress"]


def test_unknown_fields_are_recorded_on_rejected_requests_too(
    sticker: httpx2.Client, admin: SandboxAdmin
) -> None:
    response = sticker.post(SETUP, json={"orgId": "x"})
    assert issue_paths(response) == [
        ["internalOrgId"],
        ["organizationName"],
        ["internalUserId"],
        ["user"],
    ]
    [logged] = admin.sticker_requests()
    assert logged["ignoredFields"] == ["orgId"]
    assert (logged["internalOrgId"], logged["internalUserId"]) == (None, None)


def test_optional_fields_may_be_omitted_or_empty(sticker: httpx2.Client) -> None:
    body = minimal_body()
    body["shippingLocations"] = [
        {
            "internalShippingLocationId": "l1",
            "name": "Depot",
            "address": {
                "line1": "1 Road",
                "city": "Austin",
                "province": "TX",
                "postalCode": "73301",
            },
        },
        {
            "internalShippingLocationId": "l2",
            "name": "Shop",
            "nickname": "",
            "contact": {},
            "address": {
                "line1": "2 Road",
                "line2": "",
                "city": "Austin",
                "province": "TX",
                "postalCode": "73301",
            },
        },
    ]
    body["shippingLocations"][1]["deliveryInstructions"] = ""
    body["user"]["phoneNumber"] = ""
    body["organizationPhone"] = ""
    assert sticker.post(SETUP, json=body).status_code == 200


def test_validation_runs_before_the_conflict_check(
    sticker: httpx2.Client, admin: SandboxAdmin
) -> None:
    body = minimal_body()
    assert sticker.post(SETUP, json=body).status_code == 200
    body["user"]["email"] = "broken"
    assert issue_paths(sticker.post(SETUP, json=body)) == [["user", "email"]]
    assert admin.sticker_stats()["conflicts"] == 0
