"""Dry runs: what ``run`` or ``backfill`` would send, with nothing sent and nothing kept.

The real code path runs unchanged (``run_pass`` / ``run_backfill``: the same adapters,
planner, ledger decisions and sender), so the counts are the ones a real run would get,
with three substitutions:

- the state DB is a private copy (``state/snapshot.py``), deleted at the end: the real
  one gets no ledger row, cursor, record issue, run or lease;
- the Sticky and Sticker clients answer every request at once with a made-up id and send
  nothing (their HTTP transport refuses any request that would get past them);
- the runner skips ``batch.after_commit``: the CSV drop's files stay where they are and no
  ``rejected/*.errors.csv`` is written.

What it cannot know is what the targets themselves would refuse (a 4xx for a payload
that passes our rules, a duplicate, an outage, a refused key): every payload it would
send counts as accepted. Leases are not copied, so a dry run works while a real run
holds a source.
"""

from __future__ import annotations

import itertools
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import phonenumbers
import structlog
from pydantic import SecretStr

from connector.config import Settings
from connector.delivery.limits import WorkspacePace
from connector.delivery.sticker import LANE, SetupOutcome, StickerClient, StickerEndpoint
from connector.delivery.sticky import BeforeAttempt, Delivered, StickyClient, StickyEndpoint
from connector.delivery.traffic import Traffic
from connector.http.lib import httpx
from connector.http.retry import RetryPolicy
from connector.mapping.masking import mask_email, mask_phone
from connector.outcomes import ExitCode
from connector.redact import scrub
from connector.sync.orchestrator import PassReport, run_backfill, run_pass
from connector.sync.organizations import KIND as SETUP_KIND
from connector.sync.organizations import TARGET as STICKER
from connector.sync.planner import TARGET as STICKY
from connector.sync.runner import BatchHook
from state import StateStore
from state.snapshot import Snapshot, snapshot_store

log = structlog.get_logger("connector.dry_run")

SAMPLES_PER_KIND = 3
"""Sample payloads kept per (target, workspace, kind)."""
DRY_IN_FLIGHT = 256
"""Payloads in flight per workspace in a dry run (the most the config allows). The dry
answers are instant, so what paces a lane is the settlement's group commit: a payload
holds its slot until its group is committed (``SettleQueue.max_delay``), so with the
default 16 a lane settled at most 16 payloads per group window (measured with 8 and a
20 ms window: ~400 payloads/s per lane, most of a dry run's wall time). Concurrency
changes no decision."""
NOT_COPIED = ("leases",)
"""Tables left empty in the copy: the dry run holds no real run's lease."""
NOTES = (
    "dry run: nothing was sent; the state DB and the source files were left as they were",
    "counts are what our own rules decide: a dry run cannot know what Sticky or Sticker "
    "would refuse themselves (validation, duplicates, outages, credentials), so every "
    "payload it would send counts as accepted",
)

_PHONE_KEYS = frozenset({"phone", "phonenumber", "phone_number", "organizationphone",
                         "mobile"})
_EMAIL_KEYS = frozenset({"email", "organizationemail"})
_NAME_KEYS = frozenset({"first_name", "last_name", "firstname", "lastname", "full_name"})
_KEEP_KEYS = frozenset({"sku", "type", "id", "customer_id"})
_NON_DIGIT = re.compile(r"\D")


def mask_phone_number(value: str) -> str:
    """``"+14155550142"`` → ``"+1***42"``: the country code and the last two digits."""
    text = value.strip()
    if text.startswith("+"):
        try:
            number = phonenumbers.parse(text, None)
        except phonenumbers.NumberParseException:
            return mask_phone(text)
        digits = _NON_DIGIT.sub("", text)
        return f"+{number.country_code}***{digits[-2:]}"
    return mask_phone(text)


def mask_payload(value: Any, key: str = "") -> Any:
    """A copy of a payload fit to show: phones keep their country code and last two
    digits, e-mails their first letter and domain, names their initial; any other text
    is scrubbed of phone numbers, e-mail addresses and keys."""
    if isinstance(value, dict):
        return {k: mask_payload(v, str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [mask_payload(v, key) for v in value]
    if not isinstance(value, str):
        return value
    name = key.lower()
    if name in _PHONE_KEYS:
        return mask_phone_number(value)
    if name in _EMAIL_KEYS:
        return mask_email(value)
    if name in _NAME_KEYS:
        return f"{value.strip()[:1]}." if value.strip() else value
    return value if name in _KEEP_KEYS else scrub(value)


@dataclass(slots=True)
class SampleBook:
    """The first few payloads per (target, workspace, kind), masked."""

    limit: int = SAMPLES_PER_KIND
    samples: dict[tuple[str, str, str], list[dict[str, Any]]] = field(default_factory=dict)
    seen: Counter[tuple[str, str, str]] = field(default_factory=Counter)

    def offer(self, target: str, workspace: str, kind: str, payload: dict[str, Any]) -> None:
        group = (target, workspace, kind)
        self.seen[group] += 1
        kept = self.samples.setdefault(group, [])
        if len(kept) < self.limit:
            kept.append(mask_payload(payload))

    def as_list(self) -> list[dict[str, Any]]:
        return [{"target": target, "workspace": workspace, "kind": kind,
                 "payloads": payloads, "would_send": self.seen[(target, workspace, kind)]}
                for (target, workspace, kind), payloads in sorted(self.samples.items())]


class _NoRequests(httpx.AsyncBaseTransport):
    """The transport under the dry clients: nothing may leave."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        raise RuntimeError(f"dry run: {request.method} {request.url.path} was not sent")


_NOWHERE = "http://dry-run.invalid"
_NO_KEY = SecretStr("sk_test_dry_run")


class DryStickyClient(StickyClient):
    """The Sticky client's interface (what ``BatchSender`` uses): every payload is
    answered at once with a made-up id; ``traffic`` counts the requests a real run
    would send."""

    def __init__(self, samples: SampleBook) -> None:
        super().__init__(StickyEndpoint(base_url=_NOWHERE, api_key=_NO_KEY),
                         WorkspacePace.for_cap(100, 0.03), RetryPolicy(max_attempts=1),
                         inner_transport=_NoRequests())
        self.samples = samples
        self._ids = itertools.count(1)

    async def create_customer(self, workspace: str, payload: dict[str, Any],
                              idempotency_key: str, *,
                              before_attempt: BeforeAttempt | None = None) -> Delivered:
        return await self._answer(workspace, "customer", payload)

    async def create_event(self, workspace: str, payload: dict[str, Any],
                           idempotency_key: str, *,
                           before_attempt: BeforeAttempt | None = None) -> Delivered:
        return await self._answer(workspace, str(payload.get("type") or "event"), payload)

    async def check_access(self, workspace: str) -> None:
        return None

    async def _answer(self, workspace: str, kind: str, payload: dict[str, Any]) -> Delivered:
        self.traffic.request_sent(workspace, 0.0)
        self.samples.offer(STICKY, workspace, kind, payload)
        # No yield here: the sender awaits the settlement's group commit right after,
        # which lets the other workers run (a sleep(0) per payload cost 2.5 % of the CPU)
        return Delivered(remote_id=f"dry-run-{next(self._ids)}", status=201, attempts=1,
                         replayed=False)


class DryStickerClient(StickerClient):
    """The Sticker client's interface: each setup is answered as Sticker would answer a
    valid one (a new organization lists the request's stores; joining an organization
    lists the stores it already has), with made-up ids."""

    def __init__(self, samples: SampleBook,
                 organizations: dict[str, dict[str, dict[str, Any]] | None]) -> None:
        """``organizations``: internalOrgId → the locations Sticker listed for it, of
        the organizations that exist already."""
        super().__init__(StickerEndpoint(base_url=_NOWHERE, api_key=_NO_KEY), 5,
                         RetryPolicy(max_attempts=1), inner_transport=_NoRequests())
        self.samples = samples
        self.organizations = dict(organizations)
        self._ids = itertools.count(1)

    async def setup_organization(self, body: dict[str, Any]) -> SetupOutcome:
        org = str(body.get("internalOrgId"))
        self.traffic.request_sent(LANE, 0.0)
        self.samples.offer(STICKER, org, SETUP_KIND, body)
        is_new = org not in self.organizations
        if is_new:
            self.organizations[org] = {
                str(item.get("internalShippingLocationId")): {
                    "id": f"dry-run-location-{next(self._ids)}", "name": item.get("name"),
                    "address": item.get("address") or {}}
                for item in body.get("shippingLocations") or [] if isinstance(item, dict)}
        return SetupOutcome(
            profile_id=f"dry-run-profile-{next(self._ids)}", attempts=1,
            organization_id=f"dry-run-organization-{org}",
            organization_name=str(body.get("organizationName") or "") or None,
            is_new_organization=is_new, locations=self.organizations[org])


@dataclass(slots=True)
class DryRun:
    """What a run or backfill would do: its report (as a real one: outcomes, counts by
    target and workspace, Sticker steps), the requests it would send per workspace
    (Sticker's under ``sticker``) and sample payloads."""

    report: PassReport
    samples: SampleBook
    requests: dict[str, int]
    snapshot: Snapshot
    notes: tuple[str, ...] = NOTES

    @property
    def exit_code(self) -> ExitCode:
        return self.report.exit_code


async def dry_run_pass(settings: Settings, *, only_source: str | None = None,
                       trigger: str = "manual", due_only: bool = False) -> DryRun:
    """``run --dry-run``: :func:`run_pass` on a copy of the state DB with dry clients."""
    samples = SampleBook()
    settings = _unpaced(settings)
    with snapshot_store(settings.state.url, exclude=NOT_COPIED) as (store, snapshot):
        sticky = DryStickyClient(samples)
        sticker = (DryStickerClient(samples, _organizations(settings, store))
                   if any(t.sticker is not None for t in settings.tenants) else None)
        try:
            with structlog.contextvars.bound_contextvars(dry_run=True):
                report = await run_pass(settings, store, sticky, sticker=sticker,
                                        only_source=only_source, trigger=trigger,
                                        due_only=due_only, dry_run=True)
        finally:
            await sticky.aclose()
            if sticker is not None:
                await sticker.aclose()
    traffic = [sticky.traffic] + ([sticker.traffic] if sticker is not None else [])
    return DryRun(report, samples, _requests(*traffic), snapshot)


async def dry_run_backfill(settings: Settings, *, source_name: str, since: date,
                           until: date, on_batch: BatchHook | None = None) -> DryRun:
    """``backfill --dry-run``: :func:`run_backfill` on a copy of the state DB (the
    backfill's own cursor included) with a dry Sticky client."""
    samples = SampleBook()
    settings = _unpaced(settings)
    with snapshot_store(settings.state.url, exclude=NOT_COPIED) as (store, snapshot):
        async with DryStickyClient(samples) as sticky:
            with structlog.contextvars.bound_contextvars(dry_run=True):
                report = await run_backfill(settings, store, sticky, source_name=source_name,
                                            since=since, until=until, dry_run=True,
                                            on_batch=on_batch)
    return DryRun(report, samples, _requests(sticky.traffic), snapshot)


def _unpaced(settings: Settings) -> Settings:
    """``settings`` with :data:`DRY_IN_FLIGHT` payloads in flight per workspace."""
    sticky = settings.sticky.model_copy(update={"max_in_flight_per_workspace": DRY_IN_FLIGHT})
    return settings.model_copy(update={"sticky": sticky})


def _organizations(settings: Settings,
                   store: StateStore) -> dict[str, dict[str, dict[str, Any]] | None]:
    found: dict[str, dict[str, dict[str, Any]] | None] = {}
    for tenant in settings.tenants:
        record = store.organizations.get(tenant.id) if tenant.sticker is not None else None
        if record is not None:
            found[record.internal_org_id] = record.locations
    return found


def _requests(*traffic: Traffic) -> dict[str, int]:
    return {workspace: t.requests for each in traffic
            for workspace, t in sorted(each.by_workspace.items()) if t.requests}
