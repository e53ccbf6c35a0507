"""One sandbox per test session, reset (including faults) before every test."""

from __future__ import annotations

from collections.abc import Iterator

import httpx2
import pytest

from sandbox import RunningSandbox
from sandbox.testing import (
    SandboxAdmin,
    admin_fixture,
    sandbox_fixture,
    sticker_client,
    sticky_client,
)
from tests.sandbox.webhook_receiver import WebhookReceiver

sandbox = sandbox_fixture(scope="session")

WS_A = "ws_alpha"
WS_B = "ws_beta"


admin = admin_fixture()


@pytest.fixture(autouse=True)
def _fresh_sandbox(admin: SandboxAdmin) -> None:
    admin.reset(faults=True)


@pytest.fixture
def client(sandbox: RunningSandbox) -> Iterator[httpx2.Client]:
    """Authenticated client for workspace ``WS_A``."""
    with sticky_client(sandbox, WS_A) as client:
        yield client


@pytest.fixture
def client_b(sandbox: RunningSandbox) -> Iterator[httpx2.Client]:
    """Authenticated client for workspace ``WS_B``."""
    with sticky_client(sandbox, WS_B) as client:
        yield client


@pytest.fixture
def sticker(sandbox: RunningSandbox) -> Iterator[httpx2.Client]:
    """Authenticated Sticker client (base URL ``…/sticker``)."""
    with sticker_client(sandbox) as client:
        yield client


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    """A local webhook endpoint recording what it receives (``receiver.url``)."""
    hook = WebhookReceiver()
    try:
        yield hook
    finally:
        hook.close()
