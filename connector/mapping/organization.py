"""The Sticker organization setup request, from the tenant's facts and its stores (pure)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from connector.mapping.locations import default_flags


@dataclass(frozen=True, slots=True)
class StickerUser:
    internal_user_id: str
    first_name: str
    last_name: str
    email: str
    phone: str | None = None

    def payload(self) -> dict[str, str]:
        user = {"firstName": self.first_name, "lastName": self.last_name,
                "email": self.email}
        if self.phone is not None:
            user["phoneNumber"] = self.phone
        return user


@dataclass(frozen=True, slots=True)
class OrganizationFacts:
    """What the configuration says about the business (one tenant = one organization)."""

    internal_org_id: str
    name: str
    users: tuple[StickerUser, ...]
    billing_address: Mapping[str, str] | None = None
    email: str | None = None
    phone: str | None = None
    default_store: str | None = None


def setup_request(org: OrganizationFacts, user: StickerUser,
                  locations: Mapping[str, dict[str, Any]]) -> dict[str, Any]:
    """``POST /v1/organizations/setup`` body for ``user``, with every known store."""
    body: dict[str, Any] = {
        "internalOrgId": org.internal_org_id,
        "organizationName": org.name,
        "internalUserId": user.internal_user_id,
        "user": user.payload(),
    }
    if locations:
        body["shippingLocations"] = list(default_flags(locations, org.default_store).values())
    if org.billing_address is not None:
        body["billingAddress"] = dict(org.billing_address)
    if org.email is not None:
        body["organizationEmail"] = org.email
    if org.phone is not None:
        body["organizationPhone"] = org.phone
    return body


def user_part(body: Mapping[str, Any]) -> dict[str, Any]:
    """The part of a setup request that identifies and describes the profile."""
    return {"internalOrgId": body.get("internalOrgId"),
            "internalUserId": body.get("internalUserId"), "user": body.get("user")}


def location_view(location: Mapping[str, Any]) -> dict[str, Any]:
    """What a shipping location must match at Sticker: name and address (the state as a
    full name, country defaulted), for comparing what we hold with what Sticker returned."""
    address = dict(location.get("address") or {})
    address.setdefault("country", "United States")
    address = {k: v for k, v in address.items() if v not in (None, "")}
    return {"name": location.get("name"), "address": address}
