"""State stores on a real SQLite file, and on PostgreSQL when STICKY_SYNC_TEST_PG_URL is set
(`.ci/run` starts one when the machine has PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from state import StateStore
from tests.state_backends import state_url_fixture  # noqa: F401 - the fixture


@pytest.fixture
def store(state_url: str) -> Iterator[StateStore]:
    opened = StateStore.open(state_url)
    try:
        yield opened
    finally:
        opened.close()
