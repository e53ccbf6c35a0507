"""What the pure mappers need to know about the tenant and source (no I/O handles)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class MappingContext:
    tenant: str
    source: str
    phone_region: str = "US"
    timezone: str = "UTC"
    default_workspace: str = ""
    workspaces: Mapping[str, str] = field(default_factory=dict)

    def workspace_for(self, store_id: str | None) -> str:
        """Route by store: the store's workspace if mapped, else the tenant default."""
        if store_id is not None and store_id in self.workspaces:
            return self.workspaces[store_id]
        return self.default_workspace
