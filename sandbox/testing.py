"""Helpers for test suites that talk to a sandbox over HTTP.

Example ``conftest.py``::

    from sandbox.testing import sandbox_fixture
    sticky_sandbox = sandbox_fixture(scope="module")   # fixture named "sticky_sandbox"

    def test_x(sticky_sandbox):
        with sticky_client(sticky_sandbox, "ws_a") as client:
            client.post("/v1/customers", json={"phone": "+13035551234"})

    def test_y(sticky_sandbox):
        with sticker_client(sticky_sandbox) as client:   # base URL .../sticker
            client.post("/v1/organizations/setup", json={...})

Webhooks: ``SandboxAdmin.set_tier / install_pass / enter_journey`` emit events,
``wait_for_deliveries()`` waits for their delivery and ``sandbox.sticky.signing.verify``
checks a received ``Sticky-Signature``.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from typing import Any, Literal, cast

import httpx2
import pytest

from sandbox.config import SandboxConfig
from sandbox.server import RunningSandbox, running_sandbox
from sandbox.sticker.api import PREFIX as STICKER_PREFIX

DEFAULT_API_KEY = "sk_test_sandbox"
DEFAULT_WORKSPACE = "ws_test"
Scope = Literal["session", "package", "module", "class", "function"]


def sticky_headers(
    workspace: str = DEFAULT_WORKSPACE,
    api_key: str = DEFAULT_API_KEY,
    idempotency_key: str | None = None,
) -> dict[str, str]:
    headers = {"Authorization": f"Bearer {api_key}", "Sticky-Workspace": workspace}
    if idempotency_key is not None:
        headers["Idempotency-Key"] = idempotency_key
    return headers


def sticker_headers(api_key: str = DEFAULT_API_KEY) -> dict[str, str]:
    """Sticker needs only the Bearer key (no workspace, no Idempotency-Key)."""
    return {"Authorization": f"Bearer {api_key}"}


def _base_url(target: RunningSandbox | str) -> str:
    return target if isinstance(target, str) else target.base_url


def sticker_base_url(target: RunningSandbox | str) -> str:
    """The Sticker base URL of a sandbox: ``http://host:port/sticker``."""
    return _base_url(target).rstrip("/") + STICKER_PREFIX


def sticky_client(
    target: RunningSandbox | str,
    workspace: str = DEFAULT_WORKSPACE,
    api_key: str = DEFAULT_API_KEY,
    **kwargs: Any,
) -> httpx2.Client:
    """A sync client with auth and workspace headers set."""
    return httpx2.Client(
        base_url=_base_url(target), headers=sticky_headers(workspace, api_key), **kwargs
    )


def sticky_async_client(
    target: RunningSandbox | str,
    workspace: str = DEFAULT_WORKSPACE,
    api_key: str = DEFAULT_API_KEY,
    **kwargs: Any,
) -> httpx2.AsyncClient:
    """An async client with auth and workspace headers set."""
    return httpx2.AsyncClient(
        base_url=_base_url(target), headers=sticky_headers(workspace, api_key), **kwargs
    )


def sticker_client(
    target: RunningSandbox | str, api_key: str = DEFAULT_API_KEY, **kwargs: Any
) -> httpx2.Client:
    """A sync client for Sticker (base URL ``…/sticker``) with the Bearer key set."""
    return httpx2.Client(
        base_url=sticker_base_url(target), headers=sticker_headers(api_key), **kwargs
    )


def sticker_async_client(
    target: RunningSandbox | str, api_key: str = DEFAULT_API_KEY, **kwargs: Any
) -> httpx2.AsyncClient:
    """An async client for Sticker (base URL ``…/sticker``) with the Bearer key set."""
    return httpx2.AsyncClient(
        base_url=sticker_base_url(target), headers=sticker_headers(api_key), **kwargs
    )


class SandboxAdmin:
    """Sync client for the ``/_sandbox/*`` inspection and control endpoints."""

    def __init__(self, target: RunningSandbox | str, timeout: float = 10.0) -> None:
        self._client = httpx2.Client(base_url=_base_url(target), timeout=timeout)

    def __enter__(self) -> SandboxAdmin:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._client.close()

    def _json(self, method: str, path: str, body: object = None) -> dict[str, Any]:
        response = self._client.request(method, f"/_sandbox{path}", json=body)
        response.raise_for_status()
        return cast(dict[str, Any], response.json())

    def reset(self, *, faults: bool = False) -> None:
        self._json("POST", "/reset", {"faults": faults})

    def faults(self) -> dict[str, Any]:
        return self._json("GET", "/faults")

    def set_faults(self, **changes: object) -> dict[str, Any]:
        return self._json("POST", "/faults", changes)

    def stats(self) -> dict[str, Any]:
        return self._json("GET", "/stats")

    def workspace_stats(self, workspace: str) -> dict[str, int]:
        """Counters of one workspace (all zero if it has seen no request)."""
        snapshot = self.stats()
        found = snapshot["workspaces"].get(workspace)
        return dict(found) if found else dict.fromkeys(snapshot["totals"], 0)

    def _data(self, path: str, workspace: str | None) -> list[dict[str, Any]]:
        query = "" if workspace is None else f"?workspace={workspace}"
        return cast(list[dict[str, Any]], self._json("GET", path + query)["data"])

    def customers(self, workspace: str | None = None) -> list[dict[str, Any]]:
        return self._data("/customers", workspace)

    def events(self, workspace: str | None = None) -> list[dict[str, Any]]:
        return self._data("/events", workspace)

    def passes(self, workspace: str | None = None) -> list[dict[str, Any]]:
        return self._data("/passes", workspace)

    def webhooks(self, workspace: str | None = None) -> list[dict[str, Any]]:
        return self._data("/webhooks", workspace)

    def organizations(self, internal_org_id: str | None = None) -> list[dict[str, Any]]:
        """Sticker organizations (with profiles and locations), in creation order."""
        response = self._client.get(
            "/_sandbox/organizations",
            params={} if internal_org_id is None else {"internalOrgId": internal_org_id},
        )
        response.raise_for_status()
        return cast(list[dict[str, Any]], response.json()["data"])

    def sticker_requests(self) -> list[dict[str, Any]]:
        """Sticker setup requests that reached processing (or an injected SETUP_ERROR)."""
        return cast(list[dict[str, Any]], self._json("GET", "/sticker/requests")["data"])

    def sticker_stats(self) -> dict[str, int]:
        """Sticker counters."""
        return cast(dict[str, int], self.stats()["sticker"])

    # Webhooks. Error answers (400/404/409/410) raise httpx2.HTTPStatusError, whose
    # ``response`` carries the status and the error body.

    def set_tier(self, customer_id: str, tier: str) -> dict[str, Any]:
        """Set a customer's tier (emits ``customer.tier_changed`` if it changed); the
        customer plus ``event_id`` (None when unchanged)."""
        return self._json("POST", f"/customers/{customer_id}/tier", {"tier": tier})

    def install_pass(self, pass_id: str, platform: str = "apple") -> dict[str, Any]:
        """Install a pass once (emits ``pass.installed``); the pass plus ``event_id``."""
        return self._json("POST", f"/passes/{pass_id}/install", {"platform": platform})

    def expire_pass(self, pass_id: str) -> dict[str, Any]:
        """Move a pass's ``expires_at`` into the past."""
        return self._json("POST", f"/passes/{pass_id}/expire", {})

    def enter_journey(self, customer_id: str, journey: str) -> dict[str, Any]:
        """Emit ``journey.entered``; the customer plus ``journey`` and ``event_id``."""
        return self._json("POST", f"/customers/{customer_id}/journeys", {"journey": journey})

    def webhook_events(self, workspace: str | None = None) -> list[dict[str, Any]]:
        """Webhook events with their deliveries and attempts, in creation order."""
        return self._data("/webhook_events", workspace)

    def redeliver(self, event_id: str) -> dict[str, Any]:
        """One extra attempt to each subscription, now; the event after it finished."""
        return self._json("POST", f"/webhook_events/{event_id}/redeliver")

    def webhook_settings(self, **changes: object) -> dict[str, Any]:
        """Read (no arguments) or change time_scale, duplicates, timeout_seconds."""
        if not changes:
            return self._json("GET", "/webhooks/settings")
        return self._json("POST", "/webhooks/settings", changes)

    def wait_for_deliveries(
        self, timeout: float = 10.0, workspace: str | None = None, interval: float = 0.02
    ) -> list[dict[str, Any]]:
        """Poll until no delivery is ``pending``; the events then. TimeoutError otherwise."""
        deadline = time.monotonic() + timeout
        while True:
            events = self.webhook_events(workspace)
            pending = [d for e in events for d in e["deliveries"] if d["state"] == "pending"]
            if not pending:
                return events
            if time.monotonic() >= deadline:
                raise TimeoutError(f"{len(pending)} webhook deliveries still pending")
            time.sleep(interval)


@contextlib.contextmanager
def sandbox_server(config: SandboxConfig | None = None) -> Iterator[RunningSandbox]:
    """A fresh sandbox on a free loopback port for the ``with`` block."""
    with running_sandbox(config) as sandbox:
        yield sandbox


def sandbox_fixture(
    config: SandboxConfig | None = None, *, scope: Scope = "session"
) -> Callable[[], Iterator[RunningSandbox]]:
    """A pytest fixture serving a sandbox; its name is the variable it is assigned to."""

    @pytest.fixture(scope=scope)
    def fixture() -> Iterator[RunningSandbox]:
        with running_sandbox(config) as sandbox:
            yield sandbox

    return fixture


def admin_fixture(*, scope: Scope = "session") -> Callable[..., Iterator[SandboxAdmin]]:
    """A pytest fixture: a :class:`SandboxAdmin` on the ``sandbox`` fixture's server."""

    @pytest.fixture(scope=scope)
    def fixture(sandbox: RunningSandbox) -> Iterator[SandboxAdmin]:
        with SandboxAdmin(sandbox) as admin:
            yield admin

    return fixture
