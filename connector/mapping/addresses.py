"""US states and ZIP codes for Sticker addresses (pure).

States come from the maintained ``us`` package (50 states, DC, the 5 inhabited
territories), looked up **exactly** by name or USPS code, plus an alias table for what
exports really contain ("Calif.", "N. Carolina", "washington dc", military codes).
``us.states.lookup`` alone is not used on names: its phonetic match turns "W Virginia"
into Virginia. Leading compass abbreviations ("N.", "So.", "W") are expanded word-wise,
which is spelling, not guessing; anything still unknown is rejected.

ZIPs are text: 5 digits or ZIP+4 written ``12345-6789``. A 4-digit ZIP (Excel dropped
the leading zero) is repaired only for the states whose ZIPs start with 0.
"""

from __future__ import annotations

import re

import us

from connector.errors import InvalidRecord
from connector.mapping.masking import excerpt

_MILITARY = {"aa": "Armed Forces Americas", "ae": "Armed Forces Europe",
             "ap": "Armed Forces Pacific"}

# Traditional (GPO / AP style) abbreviations and common spellings, periods removed.
_ALIASES: dict[str, str] = {
    "ala": "AL", "ariz": "AZ", "ark": "AR", "calif": "CA", "cal": "CA", "colo": "CO",
    "conn": "CT", "del": "DE", "fla": "FL", "ga": "GA", "ill": "IL", "ind": "IN",
    "kan": "KS", "kans": "KS", "ky": "KY", "la": "LA", "md": "MD", "mass": "MA",
    "mich": "MI", "minn": "MN", "miss": "MS", "mo": "MO", "mont": "MT", "neb": "NE",
    "nebr": "NE", "nev": "NV", "okla": "OK", "ore": "OR", "oreg": "OR", "pa": "PA",
    "penn": "PA", "penna": "PA", "tenn": "TN", "tex": "TX", "vt": "VT", "va": "VA",
    "wash": "WA", "wis": "WI", "wisc": "WI", "wyo": "WY", "wva": "WV", "w va": "WV",
    "dc": "DC", "d c": "DC", "washington dc": "DC", "washington d c": "DC",
    "washington district of columbia": "DC", "district of columbia": "DC",
    "us virgin islands": "VI", "u s virgin islands": "VI", "virgin islands": "VI",
    "usvi": "VI", "northern marianas": "MP", "northern mariana islands": "MP",
    "commonwealth of puerto rico": "PR",
}
_COMPASS = {"n": "north", "no": "north", "s": "south", "so": "south", "w": "west"}
_ZERO_ZIP_STATES = frozenset({"CT", "MA", "ME", "NH", "NJ", "NY", "PR", "RI", "VT", "VI"})


def _key(text: str) -> str:
    text = text.lower().replace(".", " ").replace(",", " ").replace("-", " ")
    return " ".join(text.split())


def _build_names() -> tuple[dict[str, str], dict[str, str]]:
    by_key: dict[str, str] = {}
    by_abbr: dict[str, str] = {}
    for state in [*us.states.STATES_AND_TERRITORIES, us.states.DC]:
        by_abbr[state.abbr] = state.name
        by_key[_key(state.name)] = state.name
        by_key[state.abbr.lower()] = state.name
    for code, name in _MILITARY.items():
        by_abbr[code.upper()] = name
        by_key[code] = name
        by_key[_key(name)] = name
    for alias, abbr in _ALIASES.items():
        by_key[alias] = by_abbr[abbr]
    return by_key, by_abbr


_BY_KEY, _BY_ABBR = _build_names()
_ABBR_OF = {name: abbr for abbr, name in _BY_ABBR.items()}


def normalize_state(raw: str | None, *, field: str = "province") -> str:
    """The full state name (``"CA"``, ``"Calif."``, ``"california"`` → ``"California"``)."""
    text = (raw or "").strip()
    if not text:
        raise InvalidRecord("missing_state", f"{field}: the state is empty", field=field)
    key = _key(text)
    if key.startswith("state of "):
        key = key[len("state of "):]
    words = key.split()
    if len(words) > 1 and all(len(w) == 1 for w in words):
        key = "".join(words)  # "N.Y." → "ny"
    found = _BY_KEY.get(key)
    if found is None and len(words) > 1 and words[0] in _COMPASS:
        found = _BY_KEY.get(" ".join([_COMPASS[words[0]], *words[1:]]))
    if found is None:
        raise InvalidRecord("unknown_state",
                            f"{field}: {excerpt(text)} is not a US state, territory or "
                            "military code (full name or USPS abbreviation)", field=field)
    return found


def state_code(name: str) -> str:
    """USPS code of a name returned by :func:`normalize_state`."""
    return _ABBR_OF[name]


_ZIP = re.compile(r"^(\d{5})(?:[-\s]?(\d{4}))?$")


def normalize_zip(raw: str | None, *, state: str | None = None,
                  field: str = "postalCode") -> str:
    """``"94102"``, ``"94102-1234"``; accepts ``941021234``, ``94102 1234``, ``2116`` (for
    a state whose ZIPs start with 0) and Excel's ``94102.0``."""
    text = (raw or "").strip()
    if not text:
        raise InvalidRecord("missing_zip", f"{field}: the ZIP code is empty", field=field)
    if re.fullmatch(r"\d+\.0+", text):
        text = text.split(".")[0]
    if re.fullmatch(r"\d{4}", text) and state is not None and (
            state_code(state) if state in _ABBR_OF else state) in _ZERO_ZIP_STATES:
        text = "0" + text
    match = _ZIP.fullmatch(text)
    if match is None or match.group(1) == "00000":
        raise InvalidRecord("invalid_zip", f"{field}: {excerpt(text)} is not a US ZIP code "
                            "(12345 or 12345-6789)", field=field)
    return match.group(1) + (f"-{match.group(2)}" if match.group(2) else "")


# Sticker: "province must be a valid US state" (full name or abbreviation), "currently
# only US is supported". The 50 states and DC qualify; territories and military codes,
# which normalize_state knows, are refused here rather than by the API, because one bad
# address fails the whole organization setup request.
_STICKER_STATES = frozenset(s.name for s in [*us.states.STATES, us.states.DC])
_US_COUNTRY_NAMES = frozenset({"us", "usa", "u s", "u s a", "united states",
                               "united states of america", "america"})
STICKER_COUNTRY = "United States"


def sticker_state(raw: str | None, *, field: str = "province") -> str:
    """:func:`normalize_state`, limited to what Sticker accepts (50 states and DC)."""
    name = normalize_state(raw, field=field)
    if name not in _STICKER_STATES:
        raise InvalidRecord("unsupported_state",
                            f"{field}: {name} is not one of the 50 states or DC, the only "
                            "places Sticker ships to", field=field)
    return name


def sticker_country(raw: str | None, *, field: str = "country") -> str:
    """``"US"``, ``"USA"``, ``"United States"`` or empty → ``"United States"``."""
    text = (raw or "").strip()
    if not text or _key(text) in _US_COUNTRY_NAMES:
        return STICKER_COUNTRY
    raise InvalidRecord("unsupported_country",
                        f"{field}: {excerpt(text)} is not the United States, the only "
                        "country Sticker supports", field=field)
