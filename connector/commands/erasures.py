"""``sticky-sync erasures list|done``: the Sticky customers a person must erase by hand
(their source erased them; the documented Sticky API has no delete), and marking them
done once erased there (docs/privacy.md)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.table import Table

from connector.config import Settings
from connector.errors import ConfigurationError, InvalidRecord
from connector.mapping.phone import normalize_phone
from state.erasures import ATTENTION_KIND, ATTENTION_SCOPE


def list_erasures(settings: Settings) -> list[dict[str, Any]]:
    """Open "erase in Sticky" items of every tenant, oldest first."""
    store = settings.state.open()
    try:
        found = []
        for tenant in settings.tenants:
            for item in store.attention.open_items(tenant.id, ATTENTION_SCOPE):
                if item.kind != ATTENTION_KIND:
                    continue
                workspace, _, customer_id = item.key.rpartition("/")
                found.append({"tenant": tenant.id, "workspace": workspace,
                              "customer_id": customer_id,
                              "since": item.first_seen_at.isoformat(),
                              "message": item.message})
        return found
    finally:
        store.close()


def mark_done(settings: Settings, customer_ids: Sequence[str]) -> list[dict[str, Any]]:
    """Close the items of these Sticky customer ids; an id with no open item is refused
    (nothing is closed then), so a typo never hides an erasure still owed."""
    owed = list_erasures(settings)
    unknown = sorted(set(customer_ids) - {e["customer_id"] for e in owed})
    if unknown:
        raise ConfigurationError(
            f"erasures done: no erasure is owed for {', '.join(unknown)} "
            "(`sticky-sync erasures list` shows them)")
    closing = [e for e in owed if e["customer_id"] in set(customer_ids)]
    store = settings.state.open()
    try:
        for e in closing:
            store.attention.resolve(e["tenant"], ATTENTION_SCOPE, ATTENTION_KIND,
                                    f"{e['workspace']}/{e['customer_id']}")
    finally:
        store.close()
    return closing


def release_phone(settings: Settings, phone: str) -> list[str]:
    """Let records with this phone be sent again in every tenant that blocks it (the
    person signed up anew); returns those tenants. The erased customers' own keys stay
    blocked."""
    store = settings.state.open()
    try:
        released = []
        for tenant in settings.tenants:
            try:
                e164 = normalize_phone(phone, tenant.phone_region)
            except InvalidRecord as exc:
                raise ConfigurationError(f"erasures release: {exc}") from exc
            if store.erasures.release_phone(tenant.id, e164):
                released.append(tenant.id)
    finally:
        store.close()
    if not released:
        raise ConfigurationError("erasures release: no erased customer has this phone")
    return released


def render_erasures(found: list[dict[str, Any]], console: Console) -> None:
    if not found:
        console.print("no erasure owed in Sticky")
        return
    table = Table(title="to erase in Sticky by hand (the source erased these customers)")
    for column in ("tenant", "workspace", "Sticky customer", "since (UTC)"):
        table.add_column(column)
    for e in found:
        table.add_row(e["tenant"], e["workspace"], e["customer_id"],
                      e["since"][:19].replace("T", " "))
    console.print(table)
    console.print("once erased in Sticky: sticky-sync erasures done <customer id>...")
