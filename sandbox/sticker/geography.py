"""What Sticker accepts as a US state and as the country (see the README's Sticker section).

Provinces: the 50 states and the District of Columbia, by full name or USPS code,
case-insensitively, surrounding whitespace ignored; stored as the full name.
Territories (PR, GU, VI, AS, MP), military codes (AA, AE, AP) and anything else are
refused: the doc says "must be valid US state".
"""

from __future__ import annotations

STATES: dict[str, str] = {
    "AL": "Alabama",
    "AK": "Alaska",
    "AZ": "Arizona",
    "AR": "Arkansas",
    "CA": "California",
    "CO": "Colorado",
    "CT": "Connecticut",
    "DE": "Delaware",
    "DC": "District of Columbia",
    "FL": "Florida",
    "GA": "Georgia",
    "HI": "Hawaii",
    "ID": "Idaho",
    "IL": "Illinois",
    "IN": "Indiana",
    "IA": "Iowa",
    "KS": "Kansas",
    "KY": "Kentucky",
    "LA": "Louisiana",
    "ME": "Maine",
    "MD": "Maryland",
    "MA": "Massachusetts",
    "MI": "Michigan",
    "MN": "Minnesota",
    "MS": "Mississippi",
    "MO": "Missouri",
    "MT": "Montana",
    "NE": "Nebraska",
    "NV": "Nevada",
    "NH": "New Hampshire",
    "NJ": "New Jersey",
    "NM": "New Mexico",
    "NY": "New York",
    "NC": "North Carolina",
    "ND": "North Dakota",
    "OH": "Ohio",
    "OK": "Oklahoma",
    "OR": "Oregon",
    "PA": "Pennsylvania",
    "RI": "Rhode Island",
    "SC": "South Carolina",
    "SD": "South Dakota",
    "TN": "Tennessee",
    "TX": "Texas",
    "UT": "Utah",
    "VT": "Vermont",
    "VA": "Virginia",
    "WA": "Washington",
    "WV": "West Virginia",
    "WI": "Wisconsin",
    "WY": "Wyoming",
}

_LOOKUP: dict[str, str] = {
    **{code.lower(): name for code, name in STATES.items()},
    **{name.lower(): name for name in STATES.values()},
}

COUNTRY = "United States"
COUNTRY_ALIASES = frozenset({"united states", "us", "usa", "united states of america"})


def state_name(text: str) -> str | None:
    """The full name of a state given by name or USPS code, else None."""
    return _LOOKUP.get(text.strip().lower())


def is_us(text: str) -> bool:
    return text.strip().lower() in COUNTRY_ALIASES
