"""A daemon and a `sticky-sync backfill` sending to the same workspace at the same time
share its cap (connector/sync/budget.py): the sandbox never counts more than 100 in a
rolling second and draws no 429, and both deliver everything once."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from sandbox import RunningSandbox
from sandbox.testing import SandboxAdmin
from tests.daemon.conftest import DaemonProcess, child_env, wait_until, write_daemon_config
from tests.pos_fake import GenericPos, running_pos
from tests.pos_fake.server import RunningPos
from tests.support import CUSTOMER_HEADER, ORDER_HEADER, WS_ONLINE, drop_file, free_port, phone
from tests.sync.test_pos_backfill import SPEC as BACKFILL_SPEC

pytestmark = pytest.mark.slow
StartDaemon = Callable[[Path, int], DaemonProcess]
AREAS = ("415", "510", "650", "408", "628", "707")
CSV_CUSTOMERS, CSV_ORDERS = 200, 600
POS_ORDERS = 400
SPLIT_PACE = {"rate_limit_headroom": 0.03}

# the orders stream of tests/sync/test_pos_backfill.py, in pages of 100
SPEC = BACKFILL_SPEC.replace("size = 4", "size = 100")


@pytest.fixture
def pos(monkeypatch: pytest.MonkeyPatch) -> Iterator[RunningPos]:
    monkeypatch.setenv("POS_TEST_TOKEN", "test-token")
    fake = GenericPos(pagination="page", page_size=100)
    for n in range(POS_ORDERS):  # other people than the CSV's: AREAS[2:]
        fake.add_order({"id": f"S{n}", "phone": phone(n, AREAS[2 + n // 100]),
                        "closed_at": f"2026-02-{1 + n % 27:02d}T18:00:00Z",
                        "updated_at": f"2026-02-{1 + n % 27:02d}T18:00:00Z",
                        "total_cents": 5_000 + n})
    with running_pos(fake) as running:
        yield running


def test_a_daemon_and_a_backfill_share_a_workspace_without_a_429(
        tmp_path: Path, sandbox: RunningSandbox, admin: SandboxAdmin, pos: RunningPos,
        start_daemon: StartDaemon) -> None:
    port = free_port()
    # The split is what is tested here, not the last percent of the cap: at the default
    # 98/s a sandbox sharing this test's process (and a machine where three Python
    # processes start) can stamp a bunch of arrivals late enough to count 101.
    config = write_daemon_config(tmp_path, sandbox.base_url, port=port, schedule="every 2s",
                                 batch_size=200, sticky=SPLIT_PACE)
    spec = tmp_path / "spec.toml"
    spec.write_text(SPEC, encoding="utf-8")
    backfill_config = tmp_path / "backfill.toml"  # the same tenant and state, its POS
    text = config.read_text(encoding="utf-8")
    head = text[:text.index("[[tenants.sources]]")]
    backfill_config.write_text(head + f"""
[[tenants.sources]]
kind = "pos"
name = "pos-api"
spec = "{spec}"
base_url = "{pos.base_url}"
""", encoding="utf-8")
    drop = tmp_path / "drop"
    drop_file(drop, "customers_1.csv", CUSTOMER_HEADER, [  # no store: the online workspace
        [f"C{i}", phone(i, AREAS[i // 100]), "", "", "", "", "", "", "", "", ""]
        for i in range(CSV_CUSTOMERS)])
    drop_file(drop, "orders_1.csv", ORDER_HEADER, [
        [f"O{i}", f"C{i % CSV_CUSTOMERS}", "", "", "", f"{i + 1}.00", "", ""]
        for i in range(CSV_ORDERS)])

    daemon = start_daemon(config, port)
    wait_until(lambda: admin.stats()["totals"]["accepted"] >= 100, "the daemon sending")
    backfill = subprocess.run(
        [sys.executable, "-m", "connector", "backfill", "--source", "pos-api", "--since",
         "2026-02-01", "--until", "2026-03-01", "--config", str(backfill_config)],
        env={**child_env(), "POS_TEST_TOKEN": "test-token"}, capture_output=True,
        timeout=300, check=False)
    assert backfill.returncode == 0, backfill.stdout.decode()[-3000:]
    daemon.wait_until(lambda: len(admin.events(WS_ONLINE)) >= CSV_ORDERS + POS_ORDERS,
                      "everything delivered")
    stats = admin.workspace_stats(WS_ONLINE)
    assert stats["rate_limited"] == 0, stats
    assert stats["peak_window"] <= 100, stats
    log = daemon.log_path.read_text(encoding="utf-8") + backfill.stderr.decode()
    assert "sharing a workspace's rate with other processes" in log  # they did overlap
    amounts = sorted(int(e["amount_cents"]) for e in admin.events(WS_ONLINE))
    assert amounts == sorted([(i + 1) * 100 for i in range(CSV_ORDERS)]
                             + [5_000 + n for n in range(POS_ORDERS)])
    daemon.signal(signal.SIGTERM)
    assert daemon.wait() == 0
