"""Zod-style validation of the setup body: every problem is reported, with its path.

Issue codes and messages follow zod 3's defaults (``invalid_type`` "Required" /
"Expected string, received number", ``too_small``, ``invalid_string`` "Invalid email") plus
``custom`` for the refinements (state, country, duplicates, several defaults). At most
one issue is reported per field. Unknown keys are stripped (zod's default) and their
paths collected in :attr:`Checker.ignored`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from email_validator import EmailNotValidError, validate_email

from sandbox.sticker.geography import COUNTRY, is_us, state_name
from sandbox.sticker.store import Address

PathPart = str | int
Path = tuple[PathPart, ...]


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: object = _Missing()

TOP_FIELDS = (
    "internalOrgId",
    "organizationName",
    "internalUserId",
    "user",
    "userAddress",
    "shippingLocations",
    "billingAddress",
    "organizationEmail",
    "organizationPhone",
)
USER_FIELDS = ("firstName", "lastName", "email", "phoneNumber")
ADDRESS_FIELDS = ("line1", "line2", "city", "province", "postalCode", "country")
LOCATION_FIELDS = (
    "internalShippingLocationId",
    "name",
    "nickname",
    "address",
    "contact",
    "isDefault",
    "deliveryInstructions",
)
CONTACT_FIELDS = ("name", "phone", "email")

INVALID_STATE = "Invalid US state"
INVALID_COUNTRY = "Invalid country: only the United States is supported"
TOO_SMALL = "String must contain at least 1 character(s)"


@dataclass(frozen=True)
class Issue:
    code: str
    message: str
    path: Path

    def as_json(self) -> dict[str, object]:
        return {"code": self.code, "message": self.message, "path": list(self.path)}


def json_type(value: object) -> str:
    """zod's name for the type of a parsed JSON value."""
    if value is MISSING:
        return "undefined"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def dotted(path: Path) -> str:
    """``("shippingLocations", 0, "zip")`` → ``"shippingLocations[0].zip"``."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def valid_email(value: str) -> bool:
    try:
        validate_email(value, check_deliverability=False)
    except EmailNotValidError:
        return False
    return True


class Checker:
    """Collects issues and ignored (stripped) keys while reading a JSON value."""

    def __init__(self) -> None:
        self.issues: list[Issue] = []
        self.ignored: list[str] = []

    def add(self, code: str, message: str, path: Path) -> None:
        self.issues.append(Issue(code, message, path))

    def wrong_type(self, expected: str, value: object, path: Path) -> None:
        if value is MISSING:
            self.add("invalid_type", "Required", path)
        else:
            self.add("invalid_type", f"Expected {expected}, received {json_type(value)}", path)

    def mapping(
        self, value: object, path: Path, known: Iterable[str], *, required: bool = True
    ) -> Mapping[str, object] | None:
        """The object, or None (absent optional, or an issue was recorded)."""
        if value is MISSING and not required:
            return None
        if not isinstance(value, dict):
            self.wrong_type("object", value, path)
            return None
        allowed = set(known)
        self.ignored.extend(dotted((*path, key)) for key in value if key not in allowed)
        return value

    def string(self, data: Mapping[str, object], key: str, path: Path) -> str:
        """A required string with at least one non-blank character ("" on an issue)."""
        value = data.get(key, MISSING)
        where = (*path, key)
        if not isinstance(value, str):
            self.wrong_type("string", value, where)
            return ""
        if not value.strip():
            self.add("too_small", TOO_SMALL, where)
            return ""
        return value

    def optional_string(self, data: Mapping[str, object], key: str, path: Path) -> str | None:
        """An optional string (may be empty); JSON null is a type error, as in zod."""
        value = data.get(key, MISSING)
        if value is MISSING:
            return None
        if not isinstance(value, str):
            self.wrong_type("string", value, (*path, key))
            return None
        return value

    def email(
        self, data: Mapping[str, object], key: str, path: Path, *, required: bool
    ) -> str | None:
        value = data.get(key, MISSING)
        where = (*path, key)
        if value is MISSING and not required:
            return None
        if not isinstance(value, str):
            self.wrong_type("string", value, where)
            return None
        if not valid_email(value):
            self.add("invalid_string", "Invalid email", where)
            return None
        return value

    def boolean(self, data: Mapping[str, object], key: str, path: Path, default: bool) -> bool:
        value = data.get(key, MISSING)
        if value is MISSING:
            return default
        if not isinstance(value, bool):
            self.wrong_type("boolean", value, (*path, key))
            return default
        return value

    def address(self, value: object, path: Path, *, required: bool) -> Address | None:
        data = self.mapping(value, path, ADDRESS_FIELDS, required=required)
        if data is None:
            return None
        line1 = self.string(data, "line1", path)
        line2 = self.optional_string(data, "line2", path)
        city = self.string(data, "city", path)
        province = self.string(data, "province", path)
        state = state_name(province) if province else None
        if province and state is None:
            self.add("custom", INVALID_STATE, (*path, "province"))
        postal_code = self.string(data, "postalCode", path)
        country = self.optional_string(data, "country", path)
        if country is not None and not is_us(country):
            self.add("custom", INVALID_COUNTRY, (*path, "country"))
        return {
            "line1": line1,
            "line2": line2,
            "city": city,
            "province": state or "",
            "postalCode": postal_code,
            "country": COUNTRY,
        }


@dataclass(frozen=True)
class UserInput:
    first_name: str
    last_name: str
    email: str
    phone_number: str | None


@dataclass(frozen=True)
class LocationInput:
    internal_id: str
    name: str
    nickname: str | None
    address: Address
    contact: dict[str, str] | None
    is_default: bool
    delivery_instructions: str | None


@dataclass(frozen=True)
class SetupInput:
    internal_org_id: str
    organization_name: str
    internal_user_id: str
    user: UserInput
    user_address: Address | None
    shipping_locations: list[LocationInput]
    billing_address: Address | None
    organization_email: str | None
    organization_phone: str | None


@dataclass(frozen=True)
class Parsed:
    setup: SetupInput | None  # None when there are issues
    issues: list[Issue]
    ignored: list[str]


def parse_setup(body: object) -> Parsed:
    """Validate a decoded JSON body (:data:`MISSING` when there is none)."""
    check = Checker()
    data = check.mapping(body, (), TOP_FIELDS)
    if data is None:
        return Parsed(None, check.issues, check.ignored)
    internal_org_id = check.string(data, "internalOrgId", ())
    organization_name = check.string(data, "organizationName", ())
    internal_user_id = check.string(data, "internalUserId", ())
    user = _user(check, data.get("user", MISSING))
    user_address = check.address(data.get("userAddress", MISSING), ("userAddress",), required=False)
    locations = _locations(check, data.get("shippingLocations", MISSING))
    billing = check.address(
        data.get("billingAddress", MISSING), ("billingAddress",), required=False
    )
    organization_email = check.email(data, "organizationEmail", (), required=False)
    organization_phone = check.optional_string(data, "organizationPhone", ())
    if check.issues or user is None:
        return Parsed(None, check.issues, check.ignored)
    setup = SetupInput(
        internal_org_id=internal_org_id,
        organization_name=organization_name,
        internal_user_id=internal_user_id,
        user=user,
        user_address=user_address,
        shipping_locations=locations,
        billing_address=billing,
        organization_email=organization_email,
        organization_phone=organization_phone,
    )
    return Parsed(setup, check.issues, check.ignored)


def _user(check: Checker, value: object) -> UserInput | None:
    path: Path = ("user",)
    data = check.mapping(value, path, USER_FIELDS)
    if data is None:
        return None
    first_name = check.string(data, "firstName", path)
    last_name = check.string(data, "lastName", path)
    email = check.email(data, "email", path, required=True)
    phone = check.optional_string(data, "phoneNumber", path)
    return UserInput(first_name, last_name, email or "", phone)


def _locations(check: Checker, value: object) -> list[LocationInput]:
    if value is MISSING:
        return []
    if not isinstance(value, list):
        check.wrong_type("array", value, ("shippingLocations",))
        return []
    locations: list[LocationInput] = []
    seen: set[str] = set()
    default_seen = False
    for index, item in enumerate(value):
        path: Path = ("shippingLocations", index)
        location = _location(check, item, path)
        if location is None:
            continue
        if location.internal_id:
            if location.internal_id in seen:
                check.add(
                    "custom",
                    "Duplicate internalShippingLocationId in this request",
                    (*path, "internalShippingLocationId"),
                )
            seen.add(location.internal_id)
        if location.is_default:
            if default_seen:
                check.add(
                    "custom", "Only one shipping location can be the default", (*path, "isDefault")
                )
            default_seen = True
        locations.append(location)
    return locations


def _location(check: Checker, value: object, path: Path) -> LocationInput | None:
    data = check.mapping(value, path, LOCATION_FIELDS)
    if data is None:
        return None
    internal_id = check.string(data, "internalShippingLocationId", path)
    name = check.string(data, "name", path)
    nickname = check.optional_string(data, "nickname", path)
    address = check.address(data.get("address", MISSING), (*path, "address"), required=True)
    contact = _contact(check, data.get("contact", MISSING), (*path, "contact"))
    is_default = check.boolean(data, "isDefault", path, default=False)
    instructions = check.optional_string(data, "deliveryInstructions", path)
    return LocationInput(
        internal_id=internal_id,
        name=name,
        nickname=nickname,
        address=address or {},
        contact=contact,
        is_default=is_default,
        delivery_instructions=instructions,
    )


def _contact(check: Checker, value: object, path: Path) -> dict[str, str] | None:
    data = check.mapping(value, path, CONTACT_FIELDS, required=False)
    if data is None:
        return None
    contact: dict[str, str] = {}
    for key in ("name", "phone"):
        text = check.optional_string(data, key, path)
        if text is not None:
            contact[key] = text
    email = check.email(data, "email", path, required=False)
    if email is not None:
        contact["email"] = email
    return contact
