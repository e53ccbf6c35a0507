"""One rate budget per workspace across processes (connector/sync/budget.py): two
`sticky-sync run` processes of two sources of one tenant, sending to the same workspaces
at the same time, stay together at or under the sandbox's 100 requests in any rolling
second and draw no 429, on SQLite and PostgreSQL; each alone paces at the whole cap."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from connector.config import API_KEY_ENV, STICKER_KEY_ENV
from sandbox.testing import SandboxAdmin
from tests.state_backends import state_url_fixture
from tests.support import (
    CUSTOMER_HEADER,
    ORDER_HEADER,
    STICKER_TEST_KEY,
    TEST_KEY,
    WS_DOWNTOWN,
    WS_EASTSIDE,
    csv_sources,
    drop_file,
    phone,
)
from tests.sync.conftest import Harness

state_url = state_url_fixture
pytestmark = pytest.mark.slow
WORKSPACES = (WS_DOWNTOWN, WS_EASTSIDE)
CUSTOMERS = 200  # per source
ORDERS = 300


def drop_source(folder: Path, prefix: str, areas: tuple[str, str]) -> None:
    folder.mkdir(exist_ok=True)
    drop_file(folder, "customers_1.csv", CUSTOMER_HEADER, [
        [f"{prefix}{i}", phone(i, areas[i // 100]), "", "", "", "", "", "", "",
         "001" if i % 2 else "002", ""] for i in range(CUSTOMERS)])
    drop_file(folder, "orders_1.csv", ORDER_HEADER, [
        [f"{prefix}-O{i}", f"{prefix}{i % CUSTOMERS}", "", "001" if i % 2 else "002", "",
         f"{i + 1}.00", "", ""] for i in range(ORDERS)])


def start(config: Path, source: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, API_KEY_ENV: TEST_KEY, STICKER_KEY_ENV: STICKER_TEST_KEY}
    return subprocess.Popen([sys.executable, "-m", "connector", "run", "--source", source,
                             "--config", str(config)], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)


def test_two_processes_on_the_same_workspaces_share_the_cap(
        make_harness: Callable[..., Harness], admin: SandboxAdmin, state_url: str) -> None:
    # the split is tested, not the last percent of the cap (see test_daemon_and_backfill)
    harness = make_harness(state_url=state_url, sources=csv_sources("pos-a", "pos-b"),
                           sticky={"rate_limit_headroom": 0.03})
    drop_source(harness.root / "drop-pos-a", "A", ("415", "510"))
    drop_source(harness.root / "drop-pos-b", "B", ("650", "408"))
    config = harness.root / "config.toml"
    started = time.monotonic()
    runs = [start(config, "pos-a"), start(config, "pos-b")]
    outputs = [p.communicate(timeout=300)[0].decode() for p in runs]
    seconds = time.monotonic() - started
    assert [p.returncode for p in runs] == [0, 0], outputs
    requests = 0
    for workspace in WORKSPACES:
        stats = admin.workspace_stats(workspace)
        assert stats["rate_limited"] == 0, (workspace, stats)
        assert stats["peak_window"] <= 100, (workspace, stats)
        requests += stats["requests"]
    assert requests >= 2 * (CUSTOMERS + ORDERS)
    # they did overlap (each alone needs about half of this), and were not starved
    assert seconds < 60, seconds
    customers = {c["phone"] for ws in WORKSPACES for c in admin.customers(ws)}
    assert len(customers) == 2 * CUSTOMERS
    events = [e for ws in WORKSPACES for e in admin.events(ws)]
    assert len(events) == 2 * ORDERS
