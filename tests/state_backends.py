"""The ``state_url`` fixture: a real SQLite file, and a fresh PostgreSQL database when
STICKY_SYNC_TEST_PG_URL is set (`.ci/run` starts a server when the machine has one).
Import ``state_url_fixture`` into a conftest or test module to use it."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

PG_URL = os.environ.get("STICKY_SYNC_TEST_PG_URL")
BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.skipif(
    not PG_URL, reason="STICKY_SYNC_TEST_PG_URL not set"))]


@pytest.fixture(name="state_url", params=BACKENDS)
def state_url_fixture(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
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
