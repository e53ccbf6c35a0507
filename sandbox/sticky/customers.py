"""``POST /v1/customers`` (create or de-dupe on phone) and ``GET /v1/customers`` (list)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from email_validator import EmailNotValidError, validate_email

from sandbox.api import ApiResult
from sandbox.errors import invalid
from sandbox.ids import new_id, utc_now
from sandbox.sticky.loyalty import tier_for
from sandbox.sticky.request import StickyRequest
from sandbox.sticky.store import Customer, StickyStore, WorkspaceData
from sandbox.sticky.views import customer_public
from sandbox.validation import missing, optional_string, reject_unknown

E164 = re.compile(r"\+[1-9][0-9]{7,14}")
FIELDS = ("phone", "email", "first_name", "consent", "metadata")
CONSENT_FIELDS = ("sms", "email", "source")
MAX_FIRST_NAME = 100
MAX_SOURCE = 200
MAX_METADATA_PAIRS = 50
MAX_METADATA_KEY = 40
MAX_METADATA_VALUE = 500
LIST_PARAMS = ("limit", "starting_after", "phone")
DEFAULT_LIMIT = 10
MAX_LIMIT = 100


@dataclass(frozen=True)
class CustomerInput:
    """Validated body; None means 'not provided'."""

    phone: str
    email: str | None
    first_name: str | None
    consent: dict[str, object] | None
    metadata: dict[str, str] | None


def parse_customer(data: Mapping[str, object]) -> CustomerInput:
    reject_unknown(data, FIELDS)
    return CustomerInput(
        phone=_phone(data),
        email=_email(data),
        first_name=optional_string(data, "first_name", "invalid_first_name", MAX_FIRST_NAME),
        consent=_consent(data),
        metadata=_metadata(data),
    )


def _phone(data: Mapping[str, object]) -> str:
    if "phone" not in data:
        raise missing("phone")
    phone = data["phone"]
    if not isinstance(phone, str) or E164.fullmatch(phone) is None:
        raise invalid("invalid_phone", "phone must be in E.164 format, e.g. +13035551234.", "phone")
    return phone


def _email(data: Mapping[str, object]) -> str | None:
    if "email" not in data:
        return None
    email = data["email"]
    if not isinstance(email, str):
        raise invalid("invalid_email", "email must be a string.", "email")
    try:
        result = validate_email(email, check_deliverability=False)
    except EmailNotValidError as exc:
        raise invalid("invalid_email", f"email is not a valid address: {exc}", "email") from exc
    return result.normalized.lower()


def _consent(data: Mapping[str, object]) -> dict[str, object] | None:
    if "consent" not in data:
        return None
    consent = data["consent"]
    if not isinstance(consent, dict):
        raise invalid("invalid_consent", "consent must be an object.", "consent")
    reject_unknown(consent, CONSENT_FIELDS, prefix="consent.")
    for flag in ("sms", "email"):
        if flag in consent and not isinstance(consent[flag], bool):
            raise invalid(
                "invalid_consent", f"consent.{flag} must be a boolean.", f"consent.{flag}"
            )
    if "source" in consent:
        source = consent["source"]
        if not isinstance(source, str) or not source or len(source) > MAX_SOURCE:
            raise invalid(
                "invalid_consent",
                f"consent.source must be a non-empty string of at most {MAX_SOURCE} characters.",
                "consent.source",
            )
    elif consent.get("sms") is True:
        raise invalid(
            "consent_source_required",
            "consent.source is required when consent.sms is true.",
            "consent.source",
        )
    return dict(consent)


def _metadata(data: Mapping[str, object]) -> dict[str, str] | None:
    if "metadata" not in data:
        return None
    metadata = data["metadata"]
    if not isinstance(metadata, dict):
        raise invalid("invalid_metadata", "metadata must be an object.", "metadata")
    if len(metadata) > MAX_METADATA_PAIRS:
        raise invalid(
            "invalid_metadata",
            f"metadata may have at most {MAX_METADATA_PAIRS} keys.",
            "metadata",
        )
    result: dict[str, str] = {}
    for key, value in metadata.items():
        if not key or len(key) > MAX_METADATA_KEY:
            raise invalid(
                "invalid_metadata",
                f"metadata keys must be 1 to {MAX_METADATA_KEY} characters.",
                "metadata",
            )
        if not isinstance(value, str) or len(value) > MAX_METADATA_VALUE:
            raise invalid(
                "invalid_metadata",
                f"metadata values must be strings of at most {MAX_METADATA_VALUE} characters.",
                f"metadata.{key}",
            )
        result[key] = value
    return result


class CustomerHandlers:
    def __init__(self, store: StickyStore) -> None:
        self._store = store

    def create(self, request: StickyRequest) -> ApiResult:
        given = parse_customer(request.json_object())
        workspace = self._store.workspace(request.workspace)
        existing = workspace.customer_by_phone(given.phone)
        if existing is not None:
            _apply_updates(existing, given)
            request.stats.customers_deduplicated += 1
            return ApiResult(200, customer_public(existing))
        customer = Customer(
            workspace=request.workspace,
            id=new_id("cus"),
            phone=given.phone,
            email=given.email,
            first_name=given.first_name,
            consent=given.consent,
            metadata=given.metadata or {},
            points_balance=0,
            tier=tier_for(0),
            idempotency_key=request.idempotency_key,
            created_at=utc_now(),
        )
        workspace.add_customer(customer)
        request.stats.customers_created += 1
        return ApiResult(201, customer_public(customer))

    def list(self, request: StickyRequest) -> ApiResult:
        reject_unknown(request.query, LIST_PARAMS)
        limit = _limit(request.query.get("limit"))
        workspace = self._store.workspace(request.workspace)
        start = _start_index(workspace, request.query.get("starting_after"))
        phone = request.query.get("phone")
        if phone is not None:
            match = workspace.customer_by_phone(phone)
            page = [] if match is None or workspace.position[match.id] < start else [match]
            has_more = False
        else:
            ids = workspace.order[start : start + limit + 1]
            page = [workspace.customers[i] for i in ids[:limit]]
            has_more = len(ids) > limit
        data = [customer_public(c) for c in page]
        return ApiResult(200, {"object": "list", "data": data, "has_more": has_more})


def _apply_updates(customer: Customer, given: CustomerInput) -> None:
    if given.email is not None:
        customer.email = given.email
    if given.first_name is not None:
        customer.first_name = given.first_name
    if given.consent is not None:
        customer.consent = given.consent
    if given.metadata is not None:
        customer.metadata.update(given.metadata)


def _limit(raw: str | None) -> int:
    if raw is None:
        return DEFAULT_LIMIT
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= MAX_LIMIT:
        raise invalid(
            "invalid_limit", f"limit must be an integer between 1 and {MAX_LIMIT}.", "limit"
        )
    return int(raw)


def _start_index(workspace: WorkspaceData, cursor: str | None) -> int:
    """Index of the first customer after ``cursor`` (0 without a cursor)."""
    if cursor is None:
        return 0
    position = workspace.position.get(cursor)
    if position is None:
        raise invalid(
            "customer_not_found", f"No such customer: {cursor!r}.", "starting_after", status=400
        )
    return position + 1
