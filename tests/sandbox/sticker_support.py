"""Request bodies and assertions for the Sticker tests."""

from __future__ import annotations

import copy
import itertools
import re
from typing import Any

import httpx2

SETUP = "/v1/organizations/setup"
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")
ANY_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
STRIPE_ID = re.compile(r"cus_[A-Za-z0-9]{14}")
MILLIS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")

_counter = itertools.count(1)


def address(**overrides: Any) -> dict[str, Any]:
    return {
        "line1": "123 Medical Plaza",
        "line2": "Suite 200",
        "city": "San Francisco",
        "province": "CA",
        "postalCode": "94102",
        "country": "United States",
        **overrides,
    }


def location(internal_id: str = "loc-001", **overrides: Any) -> dict[str, Any]:
    return {
        "internalShippingLocationId": internal_id,
        "name": "Main Office",
        "nickname": "HQ",
        "address": address(),
        "contact": {
            "name": "Office Manager",
            "phone": "+1-555-0101",
            "email": "office@acmemedical.com",
        },
        "isDefault": True,
        "deliveryInstructions": "Ring bell, leave at front desk",
        **overrides,
    }


def doc_body() -> dict[str, Any]:
    """The request body of the Sticker doc, verbatim."""
    return {
        "internalOrgId": "org-12345",
        "organizationName": "Acme Medical Practice",
        "internalUserId": "user-789",
        "user": {
            "firstName": "Jane",
            "lastName": "Smith",
            "email": "jane@acmemedical.com",
            "phoneNumber": "+1-555-0100",
        },
        "userAddress": {
            "line1": "456 User Street",
            "line2": "Apt 2B",
            "city": "San Francisco",
            "province": "California",
            "postalCode": "94102",
            "country": "United States",
        },
        "shippingLocations": [location()],
        "billingAddress": address(province="California"),
        "organizationEmail": "billing@acmemedical.com",
        "organizationPhone": "+1-555-0100",
    }


def minimal_body(org: str | None = None, user: str | None = None) -> dict[str, Any]:
    """Only the required fields, with fresh ids unless given."""
    n = next(_counter)
    return {
        "internalOrgId": org or f"org-{n}",
        "organizationName": f"Org {n}",
        "internalUserId": user or f"user-{n}",
        "user": {"firstName": "Jane", "lastName": "Smith", "email": f"jane{n}@example.com"},
    }


def with_changes(body: dict[str, Any], *changes: tuple[tuple[str | int, ...], Any]) -> Any:
    """A deep copy of ``body`` with values set (or deleted, for DELETE) at paths."""
    result = copy.deepcopy(body)
    for path, value in changes:
        target: Any = result
        for part in path[:-1]:
            target = target[part]
        if value is DELETE:
            del target[path[-1]]
        else:
            target[path[-1]] = value
    return result


DELETE: Any = object()


def assert_sticker_error(
    response: httpx2.Response, status: int, error: str, code: str, message: str | None = None
) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert (body["error"], body["code"]) == (error, code), body
    assert isinstance(body["message"], str) and body["message"]
    if message is not None:
        assert body["message"] == message
    return body


def details(response: httpx2.Response) -> list[dict[str, Any]]:
    body = assert_sticker_error(response, 400, "Validation Error", "VALIDATION_ERROR")
    assert set(body) == {"error", "message", "code", "details"}
    assert body["message"] == "Invalid request body"
    for issue in body["details"]:
        assert set(issue) == {"code", "message", "path"}
    return list(body["details"])


def issue_paths(response: httpx2.Response) -> list[list[str | int]]:
    return [issue["path"] for issue in details(response)]
