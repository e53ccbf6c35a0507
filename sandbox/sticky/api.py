"""The Sticky API definition: auth, workspace header and route table."""

from __future__ import annotations

from sandbox.api import ApiDefinition
from sandbox.auth import bearer_key_authenticator
from sandbox.stats import WorkspaceStats
from sandbox.sticky.customers import CustomerHandlers
from sandbox.sticky.events import EventHandlers
from sandbox.sticky.passes import PassHandlers
from sandbox.sticky.store import StickyStore
from sandbox.sticky.webhook_events import WebhookEmitter
from sandbox.sticky.webhooks import WebhookHandlers

PREFIX = "/v1"
WORKSPACE_HEADER = "Sticky-Workspace"


def sticky_definition(
    store: StickyStore, api_keys: frozenset[str] | None, webhooks: WebhookEmitter
) -> ApiDefinition[WorkspaceStats]:
    customers = CustomerHandlers(store)
    return ApiDefinition(
        name="sticky",
        workspace_header=WORKSPACE_HEADER,
        authenticate=bearer_key_authenticator(api_keys),
        routes={
            f"{PREFIX}/customers": {"POST": customers.create, "GET": customers.list},
            f"{PREFIX}/events": {"POST": EventHandlers(store, webhooks).create},
            f"{PREFIX}/passes": {"POST": PassHandlers(store).create},
            f"{PREFIX}/webhooks": {"POST": WebhookHandlers(store).create},
        },
        stats_factory=WorkspaceStats,
    )
