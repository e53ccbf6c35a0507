"""In-memory Sticker data: organizations (per partner), their profiles and locations."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

Address = dict[str, str | None]  # line1, line2, city, province (full name), postalCode, country


@dataclass
class Profile:
    id: str
    partner: str
    organization: str
    internal_user_id: str
    user: str  # auth user id (one per email address, across organizations)
    first_name: str
    last_name: str
    email: str
    phone_number: str | None
    user_address: Address | None
    created_at: datetime


@dataclass
class ShippingLocation:
    id: str
    internal_shipping_location_id: str
    name: str
    nickname: str | None
    address: Address
    contact: dict[str, str] | None
    is_default: bool
    is_active: bool
    delivery_instructions: str | None
    created_at: datetime


@dataclass
class Organization:
    id: str
    partner: str
    name: str
    internal_org_id: str
    stripe_customer_id: str
    organization_email: str | None
    organization_phone: str | None
    billing_address: Address | None
    created_at: datetime
    profiles: list[Profile] = field(default_factory=list)
    locations: list[ShippingLocation] = field(default_factory=list)

    def profile(self, internal_user_id: str) -> Profile | None:
        for profile in self.profiles:
            if profile.internal_user_id == internal_user_id:
                return profile
        return None


@dataclass
class SetupRecord:
    """One setup request that reached processing (or an injected SETUP_ERROR)."""

    status: int
    code: str | None  # None on success
    internal_org_id: str | None  # as sent, when it was a string
    internal_user_id: str | None
    ignored_fields: list[str]
    committed: bool  # whether the request changed data
    at: datetime


class StickerStore:
    def __init__(self) -> None:
        self._organizations: dict[tuple[str, str], Organization] = {}  # (partner, internalOrgId)
        self._users: dict[str, str] = {}  # lower-cased email -> auth user id
        self.requests: list[SetupRecord] = []

    def organization(self, partner: str, internal_org_id: str) -> Organization | None:
        return self._organizations.get((partner, internal_org_id))

    def add_organization(self, organization: Organization) -> None:
        self._organizations[(organization.partner, organization.internal_org_id)] = organization

    def organizations(self) -> list[Organization]:
        """All organizations in creation order."""
        return list(self._organizations.values())

    def auth_user(self, email: str, new_id: str) -> str:
        """The auth user id of ``email``, registering ``new_id`` for a new address."""
        return self._users.setdefault(email.lower(), new_id)

    def reset(self) -> None:
        self._organizations.clear()
        self._users.clear()
        self.requests.clear()
