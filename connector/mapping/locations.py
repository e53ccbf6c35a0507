"""Store rows → Sticker shipping locations and addresses (pure).

A location's ``internalShippingLocationId`` is the store id the source gives (the same id
customer and order rows carry for routing), so it is stable across runs and sources.
Optional contact fields that cannot be trusted are left out with a warning instead of
rejecting the store: the contact is a courtesy for the courier, the address is not.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import phonenumbers

from adapters.records import LocationRecord
from connector.errors import InvalidRecord, RecordProblem
from connector.mapping.addresses import (
    normalize_zip,
    sticker_country,
    sticker_state,
)
from connector.mapping.context import MappingContext
from connector.mapping.email import normalize_email
from connector.mapping.values import clean, parse_bool

MAX_TEXT = 255


@dataclass(frozen=True, slots=True)
class AddressText:
    """An address as the source wrote it (text fields, nothing interpreted yet)."""

    line1: str | None
    line2: str | None
    city: str | None
    state: str | None
    zip: str | None
    country: str | None = None


def sticker_address(raw: AddressText, *, prefix: str = "") -> dict[str, str]:
    """The Sticker address object: state as its full name, ZIP in one canonical form,
    country ``"United States"``. Raises :class:`InvalidRecord` naming the field."""
    line1 = _required(raw.line1, f"{prefix}address1")
    city = _required(raw.city, f"{prefix}city")
    state = sticker_state(raw.state, field=f"{prefix}state")
    address = {"line1": line1}
    line2 = _optional(raw.line2, f"{prefix}address2")
    if line2 is not None:
        address["line2"] = line2
    address.update(city=city, province=state,
                   postalCode=normalize_zip(raw.zip, state=state, field=f"{prefix}zip"),
                   country=sticker_country(raw.country, field=f"{prefix}country"))
    return address


@dataclass(frozen=True, slots=True)
class MappedLocation:
    key: str
    """``internalShippingLocationId``: the store id."""
    payload: dict[str, Any]
    """The shipping location object of the setup request."""
    warnings: list[str] = field(default_factory=list)


def map_location(record: LocationRecord, ctx: MappingContext) -> MappedLocation:
    key = _required(record.store_id, "store_id")
    warnings: list[str] = []
    payload: dict[str, Any] = {"internalShippingLocationId": key,
                               "name": _required(record.name, "name")}
    nickname = _optional(record.nickname, "nickname")
    if nickname is not None:
        payload["nickname"] = nickname
    payload["address"] = sticker_address(AddressText(
        record.address1, record.address2, record.city, record.state, record.zip,
        record.country))
    contact = _contact(record, ctx.phone_region, warnings)
    if contact:
        payload["contact"] = contact
    payload["isDefault"] = bool(parse_bool(record.is_default, field="is_default"))
    instructions = _optional(record.delivery_instructions, "delivery_instructions",
                             limit=1000)
    if instructions is not None:
        payload["deliveryInstructions"] = instructions
    return MappedLocation(key=key, payload=payload, warnings=warnings)


def contact_phone(raw: str | None, region: str) -> str | None:
    """A store's phone in E.164, or ``None`` when it is not a valid number. Unlike a
    customer's phone, a toll-free or landline number is a perfectly good store phone."""
    text = clean(raw)
    if text is None:
        return None
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    e164: str = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return e164


def _contact(record: LocationRecord, region: str, warnings: list[str]) -> dict[str, str]:
    contact: dict[str, str] = {}
    name = _optional(record.contact_name, "contact_name")
    if name is not None:
        contact["name"] = name
    if clean(record.phone) is not None:
        phone = contact_phone(record.phone, region)
        if phone is None:
            warnings.append("store_phone_unreadable")
        else:
            contact["phone"] = phone
    try:
        email = normalize_email(record.email, field="email")
    except RecordProblem:
        warnings.append("store_email_invalid")
        email = None
    if email is not None:
        contact["email"] = email
    return contact


def _required(raw: str | None, name: str) -> str:
    text = _optional(raw, name)
    if text is None:
        raise InvalidRecord(f"missing_{name.rsplit('.', 1)[-1]}", f"{name}: empty",
                            field=name)
    return text


def _optional(raw: str | None, name: str, *, limit: int = MAX_TEXT) -> str | None:
    text = clean(raw)
    if text is not None and len(text) > limit:
        raise InvalidRecord("value_too_long", f"{name}: {len(text)} characters, at most "
                            f"{limit}", field=name)
    return " ".join(text.split()) if text is not None else None


def default_flags(locations: Mapping[str, dict[str, Any]],
                  default_store: str | None) -> dict[str, dict[str, Any]]:
    """Locations with at most one ``isDefault``: the configured store if given, else the
    first (by id) the source flagged."""
    chosen = default_store if default_store in locations else next(
        (key for key in sorted(locations) if locations[key].get("isDefault")), None)
    return {key: {**payload, "isDefault": key == chosen}
            for key, payload in sorted(locations.items())}
