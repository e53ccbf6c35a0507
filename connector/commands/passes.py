"""``sticky-sync passes``: mint wallet passes on demand, export the install links.

The export is for the retailer's own messaging tool (with each customer's consent
flags as the source gave them); the connector itself never messages anyone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from connector.commands.tables import csv_text as table_csv
from connector.commands.tables import iso_z
from connector.config import Settings, TenantSettings
from connector.errors import ConfigurationError
from connector.sync.leasing import holder_id
from connector.sync.orchestrator import run_passes_step, sticky_client
from connector.sync.passes import PassesOutcome
from state import StateStore
from state.passes import PassRecord, PassStatus

EXPORT_COLUMNS = (
    "tenant", "workspace", "customer_key", "sticky_customer_id", "first_name", "phone",
    "email", "sms_consent", "email_consent", "pass_id", "status", "install_url",
    "apple_url", "google_url", "expires_at", "minted_at", "installed_at")


@dataclass(frozen=True, slots=True)
class MintDecision:
    customer: str
    workspace: str
    customer_id: str
    action: str  # queued | reminted | has_valid_pass | installed | expired_unused
    detail: str = ""


def choose_tenant(settings: Settings, tenant_id: str | None) -> TenantSettings:
    if tenant_id is not None:
        try:
            return settings.tenant(tenant_id)
        except KeyError as exc:
            raise ConfigurationError(f"--tenant {tenant_id}: no such tenant") from exc
    if len(settings.tenants) != 1:
        raise ConfigurationError("several tenants are configured: name one with --tenant")
    return settings.tenants[0]


def _identities(store: StateStore, tenant: TenantSettings,
                customer: str) -> list[tuple[str, str, str | None]]:
    """(workspace, Sticky customer id, customer key) for a Sticky id (``cus_…``) or a
    source customer key (``<source>:<id>``, as ``status``/exports show it)."""
    if customer.startswith("cus_"):
        found: list[tuple[str, str, str | None]] = []
        for workspace in tenant.all_workspaces:
            keys = [k for t, k in store.customers.keys_for_remote(workspace, customer)
                    if t == tenant.id]
            if keys:
                found.append((workspace, customer, keys[0]))
        return found
    return [(ws, remote, key) for (key, ws), remote in
            sorted(store.customers.identities(tenant.id, [customer]).items())]


def plan_mints(store: StateStore, tenant: TenantSettings, customers: Sequence[str], *,
               remint: bool, installs_reported: bool,
               now: datetime | None = None) -> list[MintDecision]:
    """Queue a pass for each named customer unless it has one; with ``remint``, replace
    a link that expired unused (only when installs are reported by webhook, else an
    installed pass cannot be told from an unused one)."""
    moment = now or datetime.now(UTC)
    decisions: list[MintDecision] = []
    for customer in customers:
        matches = _identities(store, tenant, customer)
        if not matches:
            raise ConfigurationError(
                f"--customer {customer}: not a customer this connector delivered to Sticky "
                f"for tenant {tenant.id} (give a Sticky id cus_… or a source key such as "
                "pos:1001)")
        for workspace, customer_id, key in matches:
            decisions.append(_decide(store, tenant, customer, workspace, customer_id, key,
                                     remint=remint, installs_reported=installs_reported,
                                     now=moment))
    return decisions


def _decide(store: StateStore, tenant: TenantSettings, customer: str, workspace: str,
            customer_id: str, key: str | None, *, remint: bool, installs_reported: bool,
            now: datetime) -> MintDecision:
    def decision(action: str, detail: str = "") -> MintDecision:
        return MintDecision(customer, workspace, customer_id, action, detail)

    current = store.passes.get(tenant.id, workspace, customer_id)
    if current is None:
        store.passes.want(tenant.id, [(workspace, customer_id, key)], "on_demand")
        return decision("queued")
    if current.status == PassStatus.WANTED:
        return decision("queued", "already waiting to be minted")
    if current.status == PassStatus.REJECTED:
        store.passes.want_again(tenant.id, workspace, customer_id)
        return decision("queued", f"Sticky refused it before: {current.last_error}")
    if current.status == PassStatus.INSTALLED:
        return decision("installed", f"pass {current.pass_id} installed "
                        f"{iso_z(current.installed_at)}; not minted again")
    if current.valid(now):
        return decision("has_valid_pass", f"pass {current.pass_id} valid until "
                        f"{iso_z(current.expires_at)}")
    if not remint:
        return decision("expired_unused", f"pass {current.pass_id} expired "
                        f"{iso_z(current.expires_at)} unused; add --remint for a new link")
    if not installs_reported:
        raise ConfigurationError(
            f"--remint {customer}: installs are not reported to this connector (no "
            f"pass.installed webhook subscription for {workspace}: run `sticky-sync "
            "webhooks subscribe`), so an expired link cannot be told from an installed "
            "pass; not minting a second one")
    store.passes.want_remint(tenant.id, workspace, customer_id, now)
    return decision("reminted", f"pass {current.pass_id} expired {iso_z(current.expires_at)} "
                    "unused")


def installs_reported(settings: Settings, store: StateStore, workspaces: Sequence[str]) -> bool:
    """Every one of ``workspaces`` has a webhook subscription that includes pass.installed."""
    for workspace in workspaces:
        sub = store.webhooks.subscription(workspace)
        if sub is None or "pass.installed" not in sub.events:
            return False
    return "pass.installed" in settings.webhooks.events


async def mint_command(settings: Settings, *, tenant_id: str | None,
                       customers: Sequence[str],
                       remint: bool) -> tuple[list[MintDecision], PassesOutcome]:
    tenant = choose_tenant(settings, tenant_id)
    if tenant.passes is None:
        raise ConfigurationError(f"tenant {tenant.id} has no [tenants.passes] section: "
                                 "wallet passes are opt-in")
    store = settings.state.open()
    try:
        decisions = plan_mints(
            store, tenant, customers, remint=remint,
            installs_reported=installs_reported(settings, store, tenant.all_workspaces))
        async with sticky_client(settings, store) as sticky:
            outcome = await run_passes_step(tenant, store, sticky, holder_id(), "manual",
                                            settings)
    finally:
        store.close()
    return decisions, outcome


def export_rows(store: StateStore, settings: Settings, *, tenant_id: str | None,
                include_all: bool, now: datetime | None = None) -> list[dict[str, str]]:
    """One row per pass: by default only links a customer can still use (minted, not
    installed, not expired); ``include_all`` adds the others with their status."""
    moment = now or datetime.now(UTC)
    tenants = [choose_tenant(settings, tenant_id)] if tenant_id else settings.tenants
    rows: list[dict[str, str]] = []
    for tenant in tenants:
        records = [r for r in store.passes.all(tenant.id)
                   if include_all or r.valid(moment)]
        profiles = store.customers.profiles(
            tenant.id, [r.customer_key for r in records if r.customer_key])
        for record in records:
            profile = profiles.get(record.customer_key or "")
            rows.append({
                "tenant": tenant.id, "workspace": record.workspace,
                "customer_key": record.customer_key or "",
                "sticky_customer_id": record.customer_id,
                "first_name": (profile.first_name or "") if profile else "",
                "phone": profile.phone if profile else "",
                "email": (profile.email or "") if profile else "",
                "sms_consent": _flag(profile.sms_consent if profile else None),
                "email_consent": _flag(profile.email_consent if profile else None),
                "pass_id": record.pass_id or "", "status": _status(record, moment),
                "install_url": record.install_url or "", "apple_url": record.apple_url or "",
                "google_url": record.google_url or "",
                "expires_at": iso_z(record.expires_at), "minted_at": iso_z(record.minted_at),
                "installed_at": iso_z(record.installed_at)})
    return rows


def csv_text(rows: Sequence[dict[str, str]]) -> str:
    return table_csv(EXPORT_COLUMNS, rows)


def _status(record: PassRecord, now: datetime) -> str:
    if record.status == PassStatus.MINTED:
        return "valid" if record.valid(now) else "expired"
    return record.status


def _flag(value: bool | None) -> str:
    return "" if value is None else ("true" if value else "false")

