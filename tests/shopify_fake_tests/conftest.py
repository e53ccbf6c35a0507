"""A fresh fake, served over real HTTP, for every test."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from tests.shopify_fake import ShopifyFake
from tests.shopify_fake_tests.support import Shop, serve

NOW = datetime(2026, 9, 15, 12, 0, 0, tzinfo=UTC)


@pytest.fixture
def fake() -> ShopifyFake:
    return ShopifyFake(now=NOW)


@pytest.fixture
def shop(fake: ShopifyFake) -> Iterator[Shop]:
    with serve(fake) as running:
        yield running
