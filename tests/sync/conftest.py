"""A sandbox per test session (reset before every test) and one-pass runs against it."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from connector.config import API_KEY_ENV, STICKER_KEY_ENV, Settings
from connector.delivery.traffic import Traffic
from connector.sync.orchestrator import PassReport, run_pass, sticker_client, sticky_client
from sandbox import RunningSandbox
from sandbox.testing import SandboxAdmin, admin_fixture, sandbox_fixture
from state import StateStore
from tests.shopify_fake import ShopifyFake, running_shopify
from tests.shopify_fake.server import RunningShopify
from tests.support import (
    SHOPIFY_TOKEN_ENV,
    STICKER_TEST_KEY,
    TEST_KEY,
    settings_for,
    write_config,
)

sandbox = sandbox_fixture(scope="session")


admin = admin_fixture()


@pytest.fixture(autouse=True)
def _fresh_sandbox(admin: SandboxAdmin, monkeypatch: pytest.MonkeyPatch) -> None:
    admin.reset(faults=True)
    monkeypatch.setenv(API_KEY_ENV, TEST_KEY)
    monkeypatch.setenv(STICKER_KEY_ENV, STICKER_TEST_KEY)


@dataclass
class Harness:
    root: Path
    settings: Settings

    @property
    def drop(self) -> Path:
        return self.root / "drop"

    def store(self) -> StateStore:
        return StateStore.open(self.settings.state.url)

    def run(self) -> tuple[PassReport, Traffic]:
        return asyncio.run(self.run_async())

    async def run_async(self) -> tuple[PassReport, Traffic]:
        store = self.store()
        sticker = sticker_client(self.settings)
        try:
            async with sticky_client(self.settings) as sticky:
                report = await run_pass(self.settings, store, sticky, sticker=sticker)
                return report, sticky.traffic
        finally:
            if sticker is not None:
                await sticker.aclose()
            store.close()


@pytest.fixture
def make_harness(tmp_path: Path, sandbox: RunningSandbox,
                 monkeypatch: pytest.MonkeyPatch) -> Callable[..., Harness]:
    def make(base_url: str | None = None, **kwargs: object) -> Harness:
        path = write_config(tmp_path, base_url or sandbox.base_url, **kwargs)  # type: ignore[arg-type]
        monkeypatch.setenv(API_KEY_ENV, TEST_KEY)
        monkeypatch.setenv(STICKER_KEY_ENV, STICKER_TEST_KEY)
        return Harness(tmp_path, settings_for(path))
    return make


@pytest.fixture
def harness(make_harness: Callable[..., Harness]) -> Harness:
    return make_harness()


@pytest.fixture
def fake() -> ShopifyFake:
    """A Shopify fake whose clock starts two hours ago (a module may override it)."""
    return ShopifyFake(now=datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2))


@pytest.fixture
def shop(fake: ShopifyFake, monkeypatch: pytest.MonkeyPatch) -> Iterator[RunningShopify]:
    """``fake`` served over loopback HTTP, its token in the environment."""
    with running_shopify(fake) as running:
        monkeypatch.setenv(SHOPIFY_TOKEN_ENV, running.token)
        yield running
