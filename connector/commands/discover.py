"""``sticky-sync discover --source NAME``: the stores a source reports, which the
configuration must map to Sticky workspaces (``[tenants.workspaces]``): Shopify's
locations, a POS's stores (its locations stream, and the store id the source stamps on
its records), the store ids in a CSV drop's newest files. For each, whether it is
mapped, and ready-to-paste TOML lines for those that are not. Nothing is written."""

from __future__ import annotations

import asyncio
import json
from dataclasses import asdict, dataclass

from rich.console import Console
from rich.table import Table
from rich.text import Text

from adapters.csv_drop import CsvDropAdapter
from adapters.pos import PosAdapter
from adapters.records import LocationRecord
from adapters.shopify.client import ShopifyGraphQL
from adapters.shopify.probe import shop_locations
from connector.config import (
    CsvSourceSettings,
    PosSourceSettings,
    Settings,
    ShopifySourceSettings,
    SourceSettings,
    TenantSettings,
)
from connector.errors import AuthenticationFailed, ConfigurationError, StickySyncError
from connector.outcomes import ExitCode
from connector.sources import pos_arguments


@dataclass(frozen=True, slots=True)
class Store:
    store_id: str
    name: str
    where: str
    """Address, or where the id was seen."""
    workspace: str | None
    """The workspace ``[tenants.workspaces]`` maps it to; ``None``: unmapped."""


def _address(location: LocationRecord) -> str:
    parts = [location.address1, location.city, location.state, location.zip]
    return ", ".join(p for p in parts if p) or "no address"


def _stores(tenant: TenantSettings, source: SourceSettings) -> tuple[list[Store], list[str]]:
    """The stores and notes on how they were found."""
    notes: list[str] = []
    found: dict[str, tuple[str, str]] = {}
    if isinstance(source, ShopifySourceSettings):
        with ShopifyGraphQL(source.endpoint, source.api_version, source.access_token(),
                            timeout_seconds=source.timeout_seconds,
                            max_attempts=min(source.max_attempts, 3)) as gql:
            for location in shop_locations(source.name, gql):
                if location.store_id:
                    found[location.store_id] = (location.name or "?", _address(location))
        notes.append("Shopify POS orders are routed by their location's numeric id")
    elif isinstance(source, PosSourceSettings):
        adapter = PosAdapter(**pos_arguments(source, tenant))
        for probe in adapter.probe():
            for record in probe.records_sample:
                if isinstance(record, LocationRecord) and record.store_id:
                    found[record.store_id] = (record.name or "?", _address(record))
        orders = adapter.spec.streams.get("orders")
        stamped = orders.constants.get("store_id") if orders else None
        if stamped:
            store = stamped.format(**adapter.variables)
            found.setdefault(store, ("this source's store", f"store_id = {stamped!r} in "
                                     f"{source.spec.name}"))
            notes.append(f"this source stamps store id {store!r} on its orders")
        if "locations" not in adapter.spec.streams:
            notes.append(f"{adapter.spec.name} lists no stores: one source per store")
    elif isinstance(source, CsvSourceSettings):
        adapter_csv = CsvDropAdapter(name=source.name, drop_dir=source.drop_dir,
                                     stable_seconds=source.stable_seconds,
                                     column_aliases=source.columns)
        unread: list[str] = []
        counts, files = adapter_csv.store_ids(unread=unread)
        if unread:
            notes.append("could not read, so not counted: " + "; ".join(unread[:5]))
        for store, rows in sorted(counts.items()):
            found[store] = ("?", f"{rows} row(s)")
        notes.append(f"store ids seen in the {len(files)} newest file(s) of {source.drop_dir}"
                     + (f": {', '.join(files[:5])}" if files else " (none found)"))
    stores = [Store(store_id, name, where, tenant.workspaces.get(store_id))
              for store_id, (name, where) in sorted(found.items())]
    return stores, notes


def _one_line(text: str) -> str:
    """Text fit for a TOML comment: no line break or other control character."""
    return "".join(c if c.isprintable() else " " for c in text)


def toml_lines(tenant: TenantSettings, stores: list[Store]) -> list[str]:
    unmapped = [s for s in stores if s.workspace is None]
    if not unmapped:
        return []
    lines = [f"# under [tenants.workspaces] of tenant {tenant.id} (a workspace id of yours "
             "for each store):"]
    lines += [f'{json.dumps(s.store_id)} = "ws_..."   # {_one_line(s.name)}, '
              f'{_one_line(s.where)}' for s in unmapped]
    return lines


async def discover_command(settings: Settings, source_name: str, console: Console,
                           json_out: bool = False) -> ExitCode:
    found = [(t, s) for t in settings.tenants for s in t.sources if s.name == source_name]
    if not found:
        raise ConfigurationError(f"--source {source_name}: no source has that name")
    tenant, source = found[0]
    try:
        stores, notes = await asyncio.to_thread(_stores, tenant, source)
    except ConfigurationError:
        raise
    except (AuthenticationFailed, StickySyncError) as exc:
        console.print(Text("FAIL ", style="red") + Text(f"{tenant.id}/{source.name}: {exc}"),
                      soft_wrap=True)
        return ExitCode.TARGET_UNREACHABLE
    lines = toml_lines(tenant, stores)
    if json_out:
        console.print_json(json.dumps({
            "tenant": tenant.id, "source": source.name,
            "default_workspace": tenant.default_workspace,
            "stores": [asdict(s) for s in stores], "notes": notes, "toml": lines}))
        return ExitCode.OK
    table = Table(title=f"stores of {tenant.id}/{source.name}")
    for column in ("store id", "name", "address / seen", "workspace"):
        table.add_column(column)
    for s in stores:
        table.add_row(Text(s.store_id), Text(s.name), Text(s.where), Text(
            s.workspace or f"not mapped (goes to {tenant.default_workspace})"))
    console.print(table)
    for note in notes:
        console.print(Text("note: " + note), soft_wrap=True)
    if lines:
        console.print(Text("\n".join(["", *lines])), soft_wrap=True, highlight=False)
    elif stores:
        console.print(Text("every store is mapped"))
    return ExitCode.OK
