"""``POST /v1/organizations/setup``: create an organization, or add a profile to one.

Order inside the handler: parse (pure) -> ``setup_error`` draw ("before": answer 500
now) -> validation result (400) -> existing profile (409) -> commit (200) -> "after":
replace the answer by 500 (the commit stays). Every call appends a
:class:`~sandbox.sticker.store.SetupRecord`.
"""

from __future__ import annotations

import uuid

from sandbox.api import NOT_JSON, ApiRequest, ApiResult
from sandbox.faults import FaultInjector
from sandbox.ids import random_token, utc_now
from sandbox.sticker.errors import setup_error, user_exists, validation_error
from sandbox.sticker.stats import StickerStats
from sandbox.sticker.store import (
    Organization,
    Profile,
    SetupRecord,
    ShippingLocation,
    StickerStore,
)
from sandbox.sticker.validation import MISSING, Issue, Parsed, SetupInput, parse_setup
from sandbox.sticker.views import setup_public

_PARTNER_NAMESPACE = uuid.UUID("5d1c6f4e-8a0b-4c2e-9f3a-7b6d5e4c3b2a")
STRIPE_ID_LENGTH = 14


def partner_id(api_key: str) -> str:
    """The partner account behind an API key: a stable UUID derived from the key."""
    return str(uuid.uuid5(_PARTNER_NAMESPACE, api_key))


def _is_json(content_type: str | None) -> bool:
    media = (content_type or "").split(";", 1)[0].strip().lower()
    return media == "application/json"


def _body_issue(request: ApiRequest[StickerStats]) -> Issue | None:
    """Issue for a body that is absent, not JSON, or sent without a JSON Content-Type."""
    if not request.raw_body.strip() or not _is_json(request.headers.get("content-type")):
        return Issue("invalid_type", "Required", ())
    if request.body is NOT_JSON:
        return Issue("custom", "Malformed JSON body", ())
    return None


def _raw_string(body: object, key: str) -> str | None:
    if isinstance(body, dict):
        value = body.get(key)
        if isinstance(value, str):
            return value
    return None


class SetupHandler:
    def __init__(self, store: StickerStore, faults: FaultInjector) -> None:
        self._store = store
        self._faults = faults

    def __call__(self, request: ApiRequest[StickerStats]) -> ApiResult:
        stats = request.stats
        body_issue = _body_issue(request)
        parsed = (
            Parsed(None, [body_issue], [])
            if body_issue is not None
            else parse_setup(request.body if request.body is not NOT_JSON else MISSING)
        )
        mode = self._faults.draw_setup_error()
        if mode == "before":
            stats.setup_errors += 1
            return self._log(request, parsed, setup_error(), committed=False)
        result, committed = self._setup(request, parsed, stats)
        if mode == "after":
            stats.setup_errors += 1
            result = setup_error()
        return self._log(request, parsed, result, committed=committed)

    def _log(
        self,
        request: ApiRequest[StickerStats],
        parsed: Parsed,
        result: ApiResult,
        *,
        committed: bool,
    ) -> ApiResult:
        code = result.body.get("code")
        self._store.requests.append(
            SetupRecord(
                status=result.status,
                code=code if isinstance(code, str) else None,
                internal_org_id=_raw_string(request.body, "internalOrgId"),
                internal_user_id=_raw_string(request.body, "internalUserId"),
                ignored_fields=list(parsed.ignored),
                committed=committed,
                at=utc_now(),
            )
        )
        return result

    def _setup(
        self, request: ApiRequest[StickerStats], parsed: Parsed, stats: StickerStats
    ) -> tuple[ApiResult, bool]:
        """The answer and whether data changed."""
        setup = parsed.setup
        if setup is None:
            stats.validation_errors += 1
            return validation_error([issue.as_json() for issue in parsed.issues]), False
        partner = partner_id(request.api_key)
        organization = self._store.organization(partner, setup.internal_org_id)
        is_new = organization is None
        if organization is None:
            organization = self._new_organization(partner, setup)
        else:
            existing = organization.profile(setup.internal_user_id)
            if existing is not None:
                stats.conflicts += 1
                return user_exists(existing.id, existing.email), False
        profile = self._new_profile(partner, organization, setup)
        if is_new:
            self._store.add_organization(organization)
            stats.organizations_created += 1
        organization.profiles.append(profile)
        stats.profiles_created += 1
        return ApiResult(200, setup_public(organization, profile, is_new)), True

    def _new_organization(self, partner: str, setup: SetupInput) -> Organization:
        now = utc_now()
        organization = Organization(
            id=str(uuid.uuid4()),
            partner=partner,
            name=setup.organization_name,
            internal_org_id=setup.internal_org_id,
            stripe_customer_id="cus_" + random_token(STRIPE_ID_LENGTH),
            organization_email=setup.organization_email,
            organization_phone=setup.organization_phone,
            billing_address=setup.billing_address,
            created_at=now,
        )
        for location in setup.shipping_locations:
            organization.locations.append(
                ShippingLocation(
                    id=str(uuid.uuid4()),
                    internal_shipping_location_id=location.internal_id,
                    name=location.name,
                    nickname=location.nickname,
                    address=location.address,
                    contact=location.contact,
                    is_default=location.is_default,
                    is_active=True,
                    delivery_instructions=location.delivery_instructions,
                    created_at=now,
                )
            )
        return organization

    def _new_profile(self, partner: str, organization: Organization, setup: SetupInput) -> Profile:
        user = setup.user
        return Profile(
            id=str(uuid.uuid4()),
            partner=partner,
            organization=organization.id,
            internal_user_id=setup.internal_user_id,
            user=self._store.auth_user(user.email, str(uuid.uuid4())),
            first_name=user.first_name,
            last_name=user.last_name,
            email=user.email,
            phone_number=user.phone_number,
            user_address=setup.user_address,
            created_at=utc_now(),
        )
