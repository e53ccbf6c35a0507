"""A source is read on a thread of its own: a page that takes long (a slow POS, a
backoff sleep between retries) does not hold up the settlement and checkpoint of what
was already read."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from starlette.responses import Response

from connector.sync.orchestrator import PassReport
from sandbox.testing import SandboxAdmin
from state import StateStore
from tests.pos_fake import GenericPos, running_pos
from tests.support import WS_ONLINE, pos_source
from tests.sync.conftest import Harness

SPEC = """
name = "generic"
timezone = "UTC"
[auth]
kind = "bearer"
token = "POS_TEST_TOKEN"
[streams.customers]
path = "/api/customers"
[streams.customers.pagination]
kind = "page"
size_param = "per_page"
size = 2
[streams.customers.fields]
customer_id = "id"
phone = "phone"
"""


class GatedPos(GenericPos):
    """Holds its ``gate_at``-th request until ``gate`` is set."""

    gate_at = 0

    def __init__(self) -> None:
        super().__init__(token="test-token", pagination="page", page_size=2)
        self.seen = 0
        self.reached = threading.Event()
        self.gate = threading.Event()

    def _gateway_fault(self) -> Response | None:
        self.seen += 1
        if self.seen == self.gate_at:
            self.reached.set()
            self.gate.wait(30)
        return super()._gateway_fault()


def test_a_slow_page_does_not_hold_up_the_checkpoint_of_the_last(
        make_harness: Callable[..., Harness], tmp_path: Path, admin: SandboxAdmin,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POS_TEST_TOKEN", "test-token")
    fake = GatedPos()
    for n in range(4):
        fake.add_customer({"id": f"c{n}", "phone": f"(415) 555-{100 + n:04d}"})
    fake.gate_at = 2  # the second page hangs
    spec = tmp_path / "spec.toml"
    spec.write_text(SPEC, encoding="utf-8")
    reports: list[PassReport] = []
    with running_pos(fake) as pos:
        h = make_harness(sources=pos_source(spec, pos.base_url))
        runner = threading.Thread(target=lambda: reports.append(h.run()[0]))
        runner.start()
        try:
            assert fake.reached.wait(20)
            # while the second page is being fetched, the first is delivered and
            # checkpointed (the state thread is not the one waiting for the POS)
            cursor = None
            store = StateStore.open(h.settings.state.url)
            try:
                for _ in range(200):
                    cursor = store.cursors.get("t1", "pos-api", "customers")
                    if cursor is not None:
                        break
                    threading.Event().wait(0.05)
            finally:
                store.close()
            assert cursor is not None and cursor["page"] == 2 and cursor["done"] is False
            assert len(admin.customers(WS_ONLINE)) == 2
        finally:
            fake.gate.set()
            runner.join(60)
    [report] = reports
    assert report.exit_code == 0 and report.total.customers_created == 4


def test_a_read_stuck_in_a_backoff_sleep_does_not_keep_the_process_alive(
        tmp_path: Path) -> None:
    """A run that ends (drained, cancelled, failed elsewhere) while its source sleeps
    between retries exits at once: the reader is a daemon thread."""
    script = tmp_path / "stuck.py"
    script.write_text(
        "import asyncio, time\n"
        "from connector.sync.state_thread import ReaderThread\n"
        "async def main():\n"
        "    reader = ReaderThread()\n"
        "    task = asyncio.ensure_future(reader.call(time.sleep, 60))\n"
        "    await asyncio.sleep(0.1)\n"
        "    task.cancel()\n"
        "    reader.close()\n"
        "asyncio.run(main())\n", encoding="utf-8")
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, str(script)], cwd=root, timeout=50,
                          env={**os.environ, "PYTHONPATH": str(root)}, check=False)
    assert done.returncode == 0  # and well before the 60-second sleep (timeout=50)
