"""State stores on a real SQLite file, and on PostgreSQL when STICKY_SYNC_TEST_PG_URL is set
(`.ci/run` starts one when the machine has PostgreSQL)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from state import StateStore

PG_URL = os.environ.get("STICKY_SYNC_TEST_PG_URL")
BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.skipif(
    not PG_URL, reason="STICKY_SYNC_TEST_PG_URL not set"))]


@pytest.fixture(params=BACKENDS)
def state_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'state.db'}"
        return
    assert PG_URL is not None
    name = f"sticky_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield PG_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def store(state_url: str) -> Iterator[StateStore]:
    opened = StateStore.open(state_url)
    try:
        yield opened
    finally:
        opened.close()
