"""Synthetic people for the fakes: names, ``@example.com`` emails, addresses, and valid US
phone numbers in the fictional 555-01xx range, written the messy ways POS staff type them."""

from __future__ import annotations

import random
from dataclasses import dataclass

# Area codes per state; each accepts 555-01xx in libphonenumber (checked in the tests).
AREA_CODES = {
    "CA": (415, 510, 408, 213, 619, 916, 707, 831),
    "CO": (303, 720, 719, 970),
    "MI": (313, 248, 517, 616, 734, 586),
    "NV": (702, 775),
    "AZ": (480, 520, 602, 623, 928),
    "OR": (503, 541, 971),
    "WA": (206, 253, 360, 425, 509),
    "MA": (617, 508, 781, 413, 978),
}
CITIES = {
    "CA": (("Oakland", "94612"), ("San Francisco", "94110"), ("San Jose", "95113")),
    "CO": (("Denver", "80202"), ("Boulder", "80302"), ("Aurora", "80010")),
    "MI": (("Detroit", "48201"), ("Ann Arbor", "48104"), ("Lansing", "48933")),
    "NV": (("Las Vegas", "89101"), ("Reno", "89501"), ("Henderson", "89002")),
    "AZ": (("Phoenix", "85004"), ("Tucson", "85701"), ("Mesa", "85201")),
    "OR": (("Portland", "97205"), ("Eugene", "97401"), ("Salem", "97301")),
    "WA": (("Seattle", "98101"), ("Tacoma", "98402"), ("Spokane", "99201")),
    "MA": (("Boston", "02108"), ("Worcester", "01608"), ("Cambridge", "02139")),
}
FIRST_NAMES = (
    "Olivia", "Liam", "Emma", "Noah", "Ava", "Mateo", "Sophia", "Elijah", "Isabella", "Lucas",
    "Mia", "Levi", "Amelia", "Ezra", "Harper", "Asher", "Evelyn", "James", "Luna", "Leo",
    "Camila", "Aiden", "Gianna", "Kai", "Aria", "Hiro", "Priya", "Diego", "Mei", "Tomas",
)  # fmt: skip
LAST_NAMES = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez",
    "Martinez", "Hernandez", "Lopez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore", "Lee",
    "Nguyen", "Kim", "Patel", "Chen", "Okafor", "O'Brien", "Silva", "Novak", "Haddad",
)  # fmt: skip
STREETS = ("Main St", "Broadway", "Oak Ave", "Pine St", "Maple Dr", "2nd St", "Elm Ct")

PHONE_STYLES = ("paren", "digits", "e164", "dashes", "dots", "one", "spaced_e164")


def format_phone(area: int, line: int, style: str) -> str:
    """``area``-555-01``line`` written in one of :data:`PHONE_STYLES`."""
    last4 = f"01{line:02d}"
    return {
        "paren": f"({area}) 555-{last4}",
        "digits": f"{area}555{last4}",
        "e164": f"+1{area}555{last4}",
        "dashes": f"{area}-555-{last4}",
        "dots": f"{area}.555.{last4}",
        "one": f"1-{area}-555-{last4}",
        "spaced_e164": f"+1 {area} 555 {last4}",
    }[style]


def e164(area: int, line: int) -> str:
    return format_phone(area, line, "e164")


@dataclass(frozen=True)
class Person:
    first: str
    last: str
    email: str
    area: int
    line: int
    state: str
    street: str
    city: str
    zip: str

    @property
    def full_name(self) -> str:
        return f"{self.first} {self.last}"

    @property
    def e164(self) -> str:
        return e164(self.area, self.line)

    def phone(self, style: str) -> str:
        return format_phone(self.area, self.line, style)


class People:
    """Deterministic people with unique phones (per state: area codes x 100 lines)."""

    def __init__(self, rng: random.Random, state: str = "CA") -> None:
        self.rng = rng
        self.state = state
        self._free = [(a, n) for a in AREA_CODES[state] for n in range(100)]
        rng.shuffle(self._free)
        self._count = 0

    def next(self) -> Person:
        if not self._free:
            raise RuntimeError(f"no unused 555-01xx numbers left for {self.state}")
        self._count += 1
        area, line = self._free.pop()
        first = self.rng.choice(FIRST_NAMES)
        last = self.rng.choice(LAST_NAMES)
        local = f"{first}.{last}".lower().replace("'", "")
        city, zip_code = self.rng.choice(CITIES[self.state])
        street = f"{self.rng.randint(1, 9999)} {self.rng.choice(STREETS)}"
        return Person(
            first=first,
            last=last,
            email=f"{local}.{self._count}@example.com",
            area=area,
            line=line,
            state=self.state,
            street=street,
            city=city,
            zip=zip_code,
        )

    def style(self) -> str:
        return self.rng.choice(PHONE_STYLES)
