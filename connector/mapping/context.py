"""What the pure mappers need to know about the tenant and source (no I/O handles)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from connector.errors import MissingDependency

UNMAPPED_STORE = "unmapped_store"


@dataclass(frozen=True, slots=True)
class MappingContext:
    tenant: str
    source: str
    phone_region: str = "US"
    timezone: str = "UTC"
    default_workspace: str = ""
    workspaces: Mapping[str, str] = field(default_factory=dict)
    hold_unmapped: bool = False
    """``unmapped_stores = "hold"``: a record of a store the map does not name waits."""

    def workspace_for(self, store_id: str | None) -> str:
        """Route by store: the store's workspace if mapped, else the tenant default (or,
        with ``hold_unmapped``, :class:`MissingDependency` until the map names it)."""
        if store_id is not None and store_id in self.workspaces:
            return self.workspaces[store_id]
        if store_id is not None and self.hold_unmapped:
            raise MissingDependency(
                UNMAPPED_STORE, f"store {store_id!r} is not in [tenants.workspaces] "
                "(unmapped_stores = \"hold\"): held until a workspace is named for it, "
                "then replayed", field="store_id")
        return self.default_workspace

    def is_unmapped(self, store_id: str | None) -> bool:
        """A store the map does not name, in a tenant that maps stores at all (a tenant
        with one workspace and no map routes everything to it on purpose)."""
        return (store_id is not None and bool(self.workspaces or self.hold_unmapped)
                and store_id not in self.workspaces)
