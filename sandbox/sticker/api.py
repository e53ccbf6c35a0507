"""The Sticker API definition: auth, route table, error shape, pipeline options."""

from __future__ import annotations

from sandbox.api import ApiDefinition, Authenticator
from sandbox.auth import bearer_key
from sandbox.faults import FaultInjector
from sandbox.sticker.errors import render_error, unauthorized
from sandbox.sticker.setup import SetupHandler
from sandbox.sticker.stats import StickerStats
from sandbox.sticker.store import StickerStore

PREFIX = "/sticker"  # a client's base URL is http://host:port/sticker
SETUP_PATH = f"{PREFIX}/v1/organizations/setup"
STATS_KEY = "sticker"


def sticker_authenticator(api_keys: frozenset[str] | None) -> Authenticator:
    """``Bearer sk_live_…|sk_test_…``; any failure is the one documented 401."""

    def authenticate(header: str | None) -> str:
        key = bearer_key(header)
        if key is None or (api_keys is not None and key not in api_keys):
            raise unauthorized()
        return key

    return authenticate


def sticker_definition(
    store: StickerStore, api_keys: frozenset[str] | None, faults: FaultInjector
) -> ApiDefinition[StickerStats]:
    return ApiDefinition(
        name=STATS_KEY,
        authenticate=sticker_authenticator(api_keys),
        routes={SETUP_PATH: {"POST": SetupHandler(store, faults)}},
        stats_factory=StickerStats,
        workspace_header=None,
        rate_scope="api_key",
        render_error=render_error,
        idempotency=False,
        error_faults=False,
    )
