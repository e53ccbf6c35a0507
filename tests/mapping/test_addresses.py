"""States and ZIP codes for Sticker addresses: exact names, USPS codes and an alias table;
never a phonetic guess."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from connector.errors import InvalidRecord
from connector.mapping.addresses import normalize_state, normalize_zip, state_code

VECTORS = Path(__file__).resolve().parents[1] / "fixtures" / "state_lookup_vectors.csv"

# What we answer for every input of the fixture (made with `us` 4.0.0's own lookup, which
# guesses phonetically): None means rejected as unknown.
EXPECTED = {
    "CA": "California", "ca": "California", "California": "California",
    "Calif.": "California", "DC": "District of Columbia",
    "District of Columbia": "District of Columbia", "Washington DC": "District of Columbia",
    "PR": "Puerto Rico", "Puerto Rico": "Puerto Rico", "GU": "Guam",
    "VI": "Virgin Islands", "Virgin Islands": "Virgin Islands",
    "U.S. Virgin Islands": "Virgin Islands", "AS": "American Samoa",
    "MP": "Northern Mariana Islands", "AA": "Armed Forces Americas",
    "AE": "Armed Forces Europe", "AP": "Armed Forces Pacific",
    "06": None,            # a FIPS code is not an address spelling
    "NY ": "New York", "N.Y.": "New York", "Mass": "Massachusetts", "TX.": "Texas",
    "Deleware": None, "W Virginia": "West Virginia", "West Virgina": None, "Main": None,
    "Ga.": "Georgia", "Okla": "Oklahoma", "Newyork": None, "Mississipi": None,
}


def fixture_inputs() -> list[str]:
    with VECTORS.open(encoding="utf-8") as fh:
        return [row["input"] for row in csv.DictReader(fh)]


def test_the_table_covers_every_fixture_input() -> None:
    assert set(fixture_inputs()) == set(EXPECTED)


@pytest.mark.parametrize("raw", sorted(EXPECTED))
def test_fixture_spellings(raw: str) -> None:
    expected = EXPECTED[raw]
    if expected is None:
        with pytest.raises(InvalidRecord) as caught:
            normalize_state(raw)
        assert caught.value.reason == "unknown_state" and caught.value.field == "province"
    else:
        assert normalize_state(raw) == expected


@pytest.mark.parametrize(("raw", "expected"), [
    ("N. Carolina", "North Carolina"), ("no carolina", "North Carolina"),
    ("So. Dakota", "South Dakota"), ("washington dc", "District of Columbia"),
    ("D.C.", "District of Columbia"), ("W.Va.", "West Virginia"), ("wva", "West Virginia"),
    ("Wash.", "Washington"), ("washington", "Washington"), ("State of Oregon", "Oregon"),
    ("  new   york ", "New York"), ("NEW-HAMPSHIRE", "New Hampshire"),
])
def test_alias_spellings(raw: str, expected: str) -> None:
    assert normalize_state(raw) == expected


@pytest.mark.parametrize("raw", ["W Virgina", "Ontario", "ON", "Baja California", "XX", "",
                                 None, "Virginia West", "N Dakota South"])
def test_what_cannot_be_trusted_is_rejected(raw: str | None) -> None:
    with pytest.raises(InvalidRecord):
        normalize_state(raw)


def test_state_codes_round_trip() -> None:
    assert state_code(normalize_state("calif")) == "CA"
    assert state_code(normalize_state("AE")) == "AE"


@pytest.mark.parametrize(("raw", "state", "expected"), [
    ("94102", None, "94102"), (" 94102 ", None, "94102"), ("94102-1234", None, "94102-1234"),
    ("941021234", None, "94102-1234"), ("94102 1234", None, "94102-1234"),
    ("94102.0", None, "94102"), ("2116", "Massachusetts", "02116"),
    ("2116", "MA", "02116"), ("0501", "New York", "00501"), ("00601", "Puerto Rico", "00601"),
])
def test_zip_codes_are_text_in_one_canonical_form(raw: str, state: str | None,
                                                   expected: str) -> None:
    assert normalize_zip(raw, state=state) == expected


@pytest.mark.parametrize(("raw", "state", "reason"), [
    ("", None, "missing_zip"), (None, None, "missing_zip"), ("2116", "California",
                                                             "invalid_zip"),
    ("2116", None, "invalid_zip"), ("9410", None, "invalid_zip"), ("941021", None, "invalid_zip"),
    ("94102-12", None, "invalid_zip"), ("T2P 0A1", None, "invalid_zip"),
    ("00000", None, "invalid_zip"), ("ABCDE", None, "invalid_zip"),
])
def test_zip_codes_that_cannot_be_trusted(raw: str | None, state: str | None,
                                          reason: str) -> None:
    with pytest.raises(InvalidRecord) as caught:
        normalize_zip(raw, state=state)
    assert caught.value.reason == reason
