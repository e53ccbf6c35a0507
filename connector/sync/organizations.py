"""The Sticker step of a pass: set the tenant up as one organization with its stores.

Per configured contact user, one ``POST /v1/organizations/setup`` (the first creates the
organization, the others join it), recorded in the ledger (target ``sticker``, workspace
= internalOrgId, kind ``organization.setup``, key = internalUserId) with the request's
content hash, so a re-run with nothing new sends nothing.

The endpoint cannot add locations to, or change, an organization that exists. What
Sticker cannot be told is recorded as a *needs-attention* item (shown by ``status`` and
the run summary) instead of being retried:

- ``location_missing``: a store we hold that Sticker's last list of the organization's
  locations lacks (a store opened after the setup, or an organization set up elsewhere);
- ``location_changed``: a store whose name or address differs from Sticker's copy;
- ``profile_changed``: a user whose details changed after its profile was created;
- ``setup_rejected``: a 400 ``VALIDATION_ERROR``, with the API's field paths; fixed by
  changing the config or the store data (a new content hash is sent again).

An item is resolved when the situation is gone. A 409 ``USER_ALREADY_EXISTS`` means the
setup already happened (a retry after a lost response, or a lost state DB) and is
success: its profile id is recorded. A 409 does not list locations, so they stay
unconfirmed until a 200 lists them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import structlog

from connector.config import TenantSettings
from connector.delivery.sticker import SetupOutcome, StickerClient
from connector.errors import AbortRun, RejectedByTarget, Retryable, TargetUnavailable
from connector.mapping.keys import content_hash, idempotency_key
from connector.mapping.organization import (
    OrganizationFacts,
    StickerUser,
    location_view,
    setup_request,
    user_part,
)
from connector.sync.state_thread import off_loop
from state import OrganizationRecord, StagedEntry, StateStore
from state.ledger import LedgerStatus
from state.store import Delivery

log = structlog.get_logger("connector.sticker")

TARGET = "sticker"
KIND = "organization.setup"
SCOPE = "sticker"
STEP = "@sticker-organization"
"""Name of the step in leases and runs (never a valid source name: it starts with @)."""

LOCATION_MISSING = "location_missing"
LOCATION_CHANGED = "location_changed"
PROFILE_CHANGED = "profile_changed"
SETUP_REJECTED = "setup_rejected"


class SetupStatus(StrEnum):
    """What the Sticker step came to (``OrganizationOutcome.status``)."""

    CREATED = "created"
    """A setup created the organization."""
    JOINED = "joined"
    """A user joined the existing organization."""
    UP_TO_DATE = "up_to_date"
    """Nothing to send."""
    WAITING = "waiting"
    """No store known yet: set up once a source reports its stores."""
    REJECTED = "rejected"
    """Sticker refused a user's setup (400)."""
    ABORTED = "aborted"
    """Stopped: Sticker refused the key or stayed down."""
    BUSY = "busy"
    """Another process runs the step."""


@dataclass(slots=True)
class OrganizationOutcome:
    tenant: str
    internal_org_id: str
    status: SetupStatus = SetupStatus.UP_TO_DATE
    organization_id: str | None = None
    profiles_added: list[str] = field(default_factory=list)
    profiles_existing: list[str] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    locations_known: int = 0
    locations_confirmed: int | None = None
    """Stores Sticker listed for the organization; None = never listed (only 409s)."""
    attention: list[str] = field(default_factory=list)
    requests: int = 0
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"tenant": self.tenant, "internal_org_id": self.internal_org_id,
                "status": self.status, "organization_id": self.organization_id,
                "profiles_added": list(self.profiles_added),
                "profiles_existing": list(self.profiles_existing),
                "rejected": list(self.rejected), "locations_known": self.locations_known,
                "locations_confirmed": self.locations_confirmed,
                "attention": list(self.attention), "requests": self.requests,
                "error": self.error}


class OrganizationSync:
    def __init__(self, tenant: TenantSettings, store: StateStore, client: StickerClient,
                 run_id: int | None = None) -> None:
        facts = tenant.organization()
        if facts is None:
            raise ValueError(f"tenant {tenant.id} has no [tenants.sticker] section")
        self.tenant = tenant
        self.facts: OrganizationFacts = facts
        self.store = store
        self.client = client
        self.run_id = run_id
        self.outcome = OrganizationOutcome(tenant.id, facts.internal_org_id)

    async def sync(self) -> OrganizationOutcome:
        """One pass; raises ``AbortRun`` when Sticker refuses the key or stays down.
        Its state-DB work runs off the event loop (``off_loop``)."""
        out = self.outcome
        stores, known = await off_loop(self._catalogue)
        out.locations_known = len(stores)
        if known is None and not stores and self._wait_for_locations:
            out.status = SetupStatus.WAITING
            out.error = ("no store locations known yet: the organization is set up once a "
                         "source reports its stores (Sticker cannot add them later)")
            return out
        for user in self.facts.users:
            await self._set_up(user, stores)
        await off_loop(self._conclude, stores)
        return out

    def _catalogue(self) -> tuple[dict[str, dict[str, Any]], OrganizationRecord | None]:
        """The stores known (key → Sticker location payload) and Sticker's organization
        as last recorded."""
        stores = {k: s.payload for k, s in self.store.locations.all_for(self.tenant.id).items()}
        return stores, self.store.organizations.get(self.tenant.id)

    def _conclude(self, stores: Mapping[str, dict[str, Any]]) -> None:
        """Compare the catalogue with Sticker's list and fill in the outcome."""
        out = self.outcome
        org = self.store.organizations.get(self.tenant.id)
        self._check_locations(org, stores)
        if org is not None:
            out.organization_id = org.organization_id
            out.locations_confirmed = (None if org.locations is None else
                                       sum(1 for k in stores if k in org.locations))
        if out.rejected:
            out.status = SetupStatus.REJECTED
        out.attention = [f"{i.kind} {i.key}: {i.message}"
                         for i in self.store.attention.open_items(self.tenant.id, SCOPE)]

    @property
    def _wait_for_locations(self) -> bool:
        cfg = self.tenant.sticker
        return cfg is None or cfg.wait_for_locations

    async def _set_up(self, user: StickerUser, stores: Mapping[str, dict[str, Any]]) -> None:
        body = setup_request(self.facts, user, stores)
        ledger_id = await off_loop(self._stage, user, body)
        if ledger_id is None:
            return
        self.outcome.requests += 1
        try:
            result = await self.client.setup_organization(body)
        except RejectedByTarget as problem:
            await off_loop(self._refused, user, ledger_id, str(problem))
            log.error("organization setup rejected", user=user.internal_user_id,
                      reason=problem.reason, field=problem.field, detail=str(problem))
            return
        except Retryable as exc:
            await off_loop(self.store.ledger.note_failure, ledger_id, str(exc), 1)
            raise TargetUnavailable(f"Sticker did not complete the setup (sticker.base_url = "
                                    f"{self.client.base_url}): {exc}") from exc
        except AbortRun as exc:
            await off_loop(self.store.ledger.note_failure, ledger_id, str(exc), 1)
            raise
        await off_loop(self._record, user, ledger_id, result)

    def _stage(self, user: StickerUser, body: dict[str, Any]) -> int | None:
        """The ledger's decision for this user's setup: its row id, staged ``pending``,
        when it is to be sent; None when it was sent (its profile is checked) or refused
        with the same request."""
        org_id = self.facts.internal_org_id
        digest = content_hash(body)
        entry_id = (org_id, KIND, user.internal_user_id)
        old = self.store.ledger.states(self.tenant.id, TARGET, [entry_id]).get(entry_id)
        if old is not None and old.status == LedgerStatus.SENT:
            self._check_profile(user)
            return None
        if old is not None and old.status == LedgerStatus.REJECTED and old.payload_hash == digest:
            self.outcome.rejected.append(user.internal_user_id)
            return None
        staged = StagedEntry(
            workspace=org_id, kind=KIND, key=user.internal_user_id, source=STEP,
            payload_hash=digest, payload=body,
            idempotency_key=idempotency_key(self.tenant.id, org_id, KIND,
                                            user.internal_user_id, digest))
        return self.store.ledger.stage(
            self.tenant.id, TARGET, [staged], self.run_id,
            {} if old is None else {entry_id: old.id})[entry_id]

    def _refused(self, user: StickerUser, ledger_id: int, problem: str) -> None:
        self.store.ledger.mark_rejected(ledger_id, problem, 1)
        self.store.attention.raise_item(self.tenant.id, SCOPE, SETUP_REJECTED,
                                        user.internal_user_id, problem)
        self.outcome.rejected.append(user.internal_user_id)

    def _record(self, user: StickerUser, ledger_id: int, result: SetupOutcome) -> None:
        tenant = self.tenant.id
        self.store.settle_delivered(tenant, [Delivery(ledger_id, result.profile_id,
                                                      result.attempts)])
        self.store.attention.resolve(tenant, SCOPE, SETUP_REJECTED, user.internal_user_id)
        self.store.organizations.save(
            tenant, self.facts.internal_org_id, organization_id=result.organization_id,
            stripe_customer_id=result.stripe_customer_id, name=result.organization_name,
            created_by_us=result.is_new_organization, locations=result.locations)
        if result.already_existed:
            self.outcome.profiles_existing.append(user.internal_user_id)
        else:
            self.outcome.profiles_added.append(user.internal_user_id)
            if result.is_new_organization:
                self.outcome.status = SetupStatus.CREATED
            elif self.outcome.status == SetupStatus.UP_TO_DATE:
                self.outcome.status = SetupStatus.JOINED
        log.info("organization setup done", user=user.internal_user_id,
                 profile_id=result.profile_id, existed=result.already_existed,
                 new_organization=result.is_new_organization, attempts=result.attempts)

    def _check_profile(self, user: StickerUser) -> None:
        """A user set up before: Sticker cannot update its profile, only tell a person."""
        tenant = self.tenant.id
        entry = self.store.ledger.find(tenant, TARGET, KIND, user.internal_user_id,
                                       workspace=self.facts.internal_org_id)
        current = user_part(setup_request(self.facts, user, {}))
        if entry is not None and user_part(entry.payload) != current:
            self.store.attention.raise_item(
                tenant, SCOPE, PROFILE_CHANGED, user.internal_user_id,
                f"user {user.internal_user_id} changed in the config after its Sticker "
                "profile was created; the setup endpoint cannot update a profile: change "
                "it in Sticker")
        else:
            self.store.attention.resolve(tenant, SCOPE, PROFILE_CHANGED,
                                         user.internal_user_id)

    def _check_locations(self, org: OrganizationRecord | None,
                         stores: Mapping[str, dict[str, Any]]) -> None:
        tenant = self.tenant.id
        missing: list[str] = []
        changed: list[str] = []
        if org is not None and org.locations is not None:
            for key, payload in stores.items():
                theirs = org.locations.get(key)
                if theirs is None:
                    missing.append(key)
                elif location_view(theirs) != location_view(payload):
                    changed.append(key)
        name = self.facts.internal_org_id
        for key in missing:
            self.store.attention.raise_item(
                tenant, SCOPE, LOCATION_MISSING, key,
                f"store {key} ({_describe(stores[key])}) is not a shipping location of "
                f"Sticker organization {name}, and POST /v1/organizations/setup cannot add "
                "locations to an existing organization: add it in Sticker")
        for key in changed:
            self.store.attention.raise_item(
                tenant, SCOPE, LOCATION_CHANGED, key,
                f"store {key} differs from Sticker's copy (now {_describe(stores[key])}); "
                "the setup endpoint cannot update a location: change it in Sticker")
        self.store.attention.resolve_others(tenant, SCOPE, LOCATION_MISSING, missing)
        self.store.attention.resolve_others(tenant, SCOPE, LOCATION_CHANGED, changed)
        if missing or changed:
            log.warning("stores need attention in Sticker", missing=missing, changed=changed)


def _describe(location: Mapping[str, Any]) -> str:
    address = location.get("address") or {}
    return ", ".join(str(p) for p in (location.get("name"), address.get("line1"),
                                      address.get("city"), address.get("province")) if p)
