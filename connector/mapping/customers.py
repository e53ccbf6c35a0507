"""Customer rows → a customer profile and the Sticky ``POST /v1/customers`` payload."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from adapters.records import CustomerRecord
from connector.errors import InvalidRecord, SkipRecord
from connector.mapping.consent import ConsentState, merge_consent
from connector.mapping.context import MappingContext
from connector.mapping.email import normalize_email
from connector.mapping.keys import customer_key, phone_customer_key
from connector.mapping.phone import normalize_phone
from connector.mapping.values import clean, parse_bool, parse_timestamp
from state.customers import Profile

NAME_LIMIT = 100


@dataclass(frozen=True, slots=True)
class MappedCustomer:
    """One source row, normalized; consent still as read (not yet merged)."""

    key: str
    workspace: str
    profile: Profile
    sms: ConsentState
    email_consent: ConsentState
    warnings: tuple[str, ...] = ()


def map_customer(record: CustomerRecord, ctx: MappingContext) -> MappedCustomer:
    warnings: list[str] = []
    try:
        phone = normalize_phone(record.phone, ctx.phone_region)
    except InvalidRecord as problem:
        if problem.reason != "no_phone":
            raise
        # Not bad data: Sticky keys customers by phone, so one without a phone is skipped.
        raise SkipRecord("no_phone", str(problem), field=problem.field) from problem
    source_id = clean(record.customer_id)
    key = (customer_key(record.id_space or ctx.source, source_id) if source_id
           else phone_customer_key(phone))
    try:
        email = normalize_email(record.email)
    except InvalidRecord:
        email = None
        warnings.append("invalid_email_dropped")
    updated_at = parse_timestamp(record.updated_at, field="updated_at", tz=ctx.timezone)
    opt_in_at = parse_timestamp(record.opt_in_at, field="opt_in_at", tz=ctx.timezone)
    consent_at = opt_in_at or updated_at
    consent_source = clean(record.opt_in_source)
    sms_flag = parse_bool(record.sms_opt_in, field="sms_opt_in")
    email_flag = parse_bool(record.email_opt_in, field="email_opt_in")
    if sms_flag is True and consent_source is None:
        warnings.append("consent_without_source")
        sms = ConsentState()
    else:
        sms = _signal(sms_flag, consent_at, consent_source)
    store_id = clean(record.store_id)
    profile = Profile(
        customer_key=key, phone=phone, email=email,
        first_name=_name(record.first_name), last_name=_name(record.last_name),
        store_id=store_id, source_updated_at=updated_at,
    )
    return MappedCustomer(
        key=key, workspace=ctx.workspace_for(store_id), profile=profile, sms=sms,
        email_consent=_signal(email_flag, consent_at, consent_source),
        warnings=tuple(warnings),
    )


def merge_profile(previous: Profile | None,
                  mapped: MappedCustomer) -> tuple[Profile, tuple[str, ...]]:
    """The new stored profile: the row's fields, consent merged with what we knew.

    A row older than what was already applied is skipped (``stale_update``).
    """
    if previous is None:
        previous = Profile(customer_key=mapped.key, phone=mapped.profile.phone)
    elif _is_older(mapped.profile.source_updated_at, previous.source_updated_at):
        raise SkipRecord("stale_update",
                         f"customer {mapped.key}: updated_at is older than the version "
                         "already synced", field="updated_at")
    sms = merge_consent(ConsentState(previous.sms_consent, previous.sms_consent_at,
                                     previous.sms_consent_source), mapped.sms)
    mail = merge_consent(ConsentState(previous.email_consent, previous.email_consent_at),
                         mapped.email_consent)
    profile = replace(
        mapped.profile,
        sms_consent=sms.state.granted, sms_consent_at=sms.state.at,
        sms_consent_source=sms.state.source if sms.state.source else mapped.sms.source,
        email_consent=mail.state.granted, email_consent_at=mail.state.at,
    )
    if profile.sms_consent is None:
        profile = replace(profile, sms_consent_source=None)
    warnings = tuple(w for w in (sms.warning, mail.warning) if w)
    return profile, warnings


def customer_payload(profile: Profile) -> dict[str, Any]:
    """The ``POST /v1/customers`` body: documented fields only; the rest in metadata."""
    payload: dict[str, Any] = {"phone": profile.phone}
    if profile.email:
        payload["email"] = profile.email
    if profile.first_name:
        payload["first_name"] = profile.first_name
    consent: dict[str, Any] = {}
    if profile.sms_consent is not None:
        consent["sms"] = profile.sms_consent
    if profile.email_consent is not None:
        consent["email"] = profile.email_consent
    if consent and profile.sms_consent_source:
        consent["source"] = profile.sms_consent_source
    if consent:
        payload["consent"] = consent
    metadata = {"source_customer": profile.customer_key}
    if profile.last_name:
        metadata["last_name"] = profile.last_name
    if profile.store_id:
        metadata["store_id"] = profile.store_id
    if profile.sms_consent_at is not None:
        metadata["sms_consent_at"] = profile.sms_consent_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    payload["metadata"] = metadata
    return payload


def _signal(flag: bool | None, at: datetime | None, source: str | None) -> ConsentState:
    if flag is None:
        return ConsentState()
    return ConsentState(granted=flag, at=at, source=source)


def _name(raw: str | None) -> str | None:
    value = clean(raw)
    return value[:NAME_LIMIT] if value else None


def _is_older(candidate: datetime | None, current: datetime | None) -> bool:
    return candidate is not None and current is not None and candidate < current
