"""Sticker: provinces (50 states + DC, name or code, any case) and the country rule."""

from __future__ import annotations

import httpx2
import pytest

from sandbox.sticker.geography import STATES
from tests.sandbox.sticker_support import SETUP, address, details, location, minimal_body


def _setup_with_addresses(client: httpx2.Client, *addresses: dict[str, str]) -> list[str]:
    """Create an org with one location per address; returns the stored provinces."""
    body = minimal_body()
    body["shippingLocations"] = [
        location(f"loc-{i}", address=a, isDefault=False) for i, a in enumerate(addresses)
    ]
    response = client.post(SETUP, json=body)
    assert response.status_code == 200, response.text
    return [loc["address"]["province"] for loc in response.json()["data"]["shippingLocations"]]


def test_all_51_codes_and_names(sticker: httpx2.Client) -> None:
    assert len(STATES) == 51
    codes = list(STATES)
    by_code = _setup_with_addresses(sticker, *(address(province=code) for code in codes))
    assert by_code == list(STATES.values())
    names = list(STATES.values())
    by_name = _setup_with_addresses(sticker, *(address(province=n.upper()) for n in names))
    assert by_name == names


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("CA", "California"),
        ("ca", "California"),
        ("Ca", "California"),
        ("California", "California"),
        ("california", "California"),
        ("CALIFORNIA", "California"),
        (" ca ", "California"),
        ("new york", "New York"),
        ("DC", "District of Columbia"),
        ("dc", "District of Columbia"),
        ("District of Columbia", "District of Columbia"),
        ("district of columbia", "District of Columbia"),
        ("WV", "West Virginia"),
    ],
)
def test_province_aliases(sticker: httpx2.Client, given: str, stored: str) -> None:
    assert _setup_with_addresses(sticker, address(province=given)) == [stored]


@pytest.mark.parametrize(
    "province",
    [
        "PR",
        "Puerto Rico",
        "GU",
        "Guam",
        "VI",
        "AS",
        "MP",
        "AA",
        "AE",
        "AP",
        "Calif.",
        "N. Carolina",
        "New  York",
        "Washington DC",
        "C A",
        "Ontario",
        "XX",
    ],
)
def test_territories_military_and_variants_are_refused(
    sticker: httpx2.Client, province: str
) -> None:
    body = minimal_body()
    body["userAddress"] = address(province=province)
    assert details(sticker.post(SETUP, json=body)) == [
        {"code": "custom", "message": "Invalid US state", "path": ["userAddress", "province"]}
    ]


@pytest.mark.parametrize(
    "country",
    [
        "United States",
        "US",
        "us",
        "USA",
        "usa",
        "United States of America",
        "united states",
        "UNITED STATES OF AMERICA",
        " US ",
    ],
)
def test_country_aliases_are_stored_as_united_states(sticker: httpx2.Client, country: str) -> None:
    body = minimal_body()
    body["shippingLocations"] = [location(address=address(country=country))]
    response = sticker.post(SETUP, json=body)
    assert response.status_code == 200, response.text
    [stored] = response.json()["data"]["shippingLocations"]
    assert stored["address"]["country"] == "United States"


@pytest.mark.parametrize("country", ["Canada", "CA", "Mexico", "U.S.A.", "America", ""])
def test_other_countries_are_refused(sticker: httpx2.Client, country: str) -> None:
    body = minimal_body()
    body["billingAddress"] = address(country=country)
    [issue] = details(sticker.post(SETUP, json=body))
    assert issue["path"] == ["billingAddress", "country"]
    assert issue["code"] == "custom"


def test_country_defaults_to_united_states_and_line2_to_null(sticker: httpx2.Client) -> None:
    given = {"line1": "1 Road", "city": "Austin", "province": "tx", "postalCode": "73301"}
    body = minimal_body()
    body["shippingLocations"] = [location(address=given)]
    response = sticker.post(SETUP, json=body)
    [stored] = response.json()["data"]["shippingLocations"]
    assert stored["address"] == {
        "line1": "1 Road",
        "line2": None,
        "city": "Austin",
        "province": "Texas",
        "postalCode": "73301",
        "country": "United States",
    }


def test_postal_code_is_free_text(sticker: httpx2.Client) -> None:
    # the doc says "ZIP or postal code" and sets no format: the text is kept as sent
    body = minimal_body()
    body["shippingLocations"] = [
        location("a", address=address(postalCode="94102-1234"), isDefault=False),
        location("b", address=address(postalCode="ABC"), isDefault=False),
    ]
    response = sticker.post(SETUP, json=body)
    assert response.status_code == 200, response.text
    stored = response.json()["data"]["shippingLocations"]
    assert [loc["address"]["postalCode"] for loc in stored] == ["94102-1234", "ABC"]
