"""JSON shapes of Sticker records: API responses and inspection dumps."""

from __future__ import annotations

from sandbox.ids import iso_ms
from sandbox.sticker.store import Organization, Profile, SetupRecord, ShippingLocation


def organization_public(o: Organization) -> dict[str, object]:
    return {
        "id": o.id,
        "name": o.name,
        "internalOrgId": o.internal_org_id,
        "stripeCustomerId": o.stripe_customer_id,
    }


def profile_public(p: Profile) -> dict[str, object]:
    return {
        "id": p.id,
        "partner": p.partner,
        "organization": p.organization,
        "internal_user_id": p.internal_user_id,
        "user": p.user,
        "first_name": p.first_name,
        "last_name": p.last_name,
        "email": p.email,
        "phone_number": p.phone_number,
        "created_at": iso_ms(p.created_at),
    }


def location_public(loc: ShippingLocation) -> dict[str, object]:
    return {
        "id": loc.id,
        "name": loc.name,
        "nickname": loc.nickname,
        "internalShippingLocationId": loc.internal_shipping_location_id,
        "address": dict(loc.address),
        "isDefault": loc.is_default,
        "isActive": loc.is_active,
    }


def setup_public(o: Organization, p: Profile, is_new: bool) -> dict[str, object]:
    return {
        "success": True,
        "data": {
            "organization": organization_public(o),
            "profile": profile_public(p),
            "shippingLocations": [location_public(loc) for loc in o.locations],
            "isNewOrganization": is_new,
        },
    }


def profile_inspection(p: Profile) -> dict[str, object]:
    return {**profile_public(p), "userAddress": p.user_address}


def location_inspection(loc: ShippingLocation) -> dict[str, object]:
    return {
        **location_public(loc),
        "contact": loc.contact,
        "deliveryInstructions": loc.delivery_instructions,
        "createdAt": iso_ms(loc.created_at),
    }


def organization_inspection(o: Organization) -> dict[str, object]:
    return {
        **organization_public(o),
        "partner": o.partner,
        "organizationEmail": o.organization_email,
        "organizationPhone": o.organization_phone,
        "billingAddress": o.billing_address,
        "createdAt": iso_ms(o.created_at),
        "profiles": [profile_inspection(p) for p in o.profiles],
        "shippingLocations": [location_inspection(loc) for loc in o.locations],
    }


def request_inspection(r: SetupRecord) -> dict[str, object]:
    return {
        "status": r.status,
        "code": r.code,
        "internalOrgId": r.internal_org_id,
        "internalUserId": r.internal_user_id,
        "ignoredFields": r.ignored_fields,
        "committed": r.committed,
        "at": iso_ms(r.at),
    }
