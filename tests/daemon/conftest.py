"""A sandbox per test session (reset before every test) and real `sticky-sync daemon`
processes against it."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2
import pytest

from connector.config import API_KEY_ENV, STICKER_KEY_ENV
from sandbox.testing import SandboxAdmin, admin_fixture, sandbox_fixture
from tests.support import STICKER_TEST_KEY, TEST_KEY, write_config

sandbox = sandbox_fixture(scope="session")
WAIT = 60.0
"""Generous upper bound of every wait: polls end as soon as the condition holds."""


admin = admin_fixture()


@pytest.fixture(autouse=True)
def _fresh_sandbox(admin: SandboxAdmin) -> None:
    admin.reset(faults=True)


def csv_source(schedule: str, batch_size: int) -> str:
    return f"""
[[tenants.sources]]
kind = "csv"
name = "pos"
drop_dir = "./drop"
stable_seconds = 0
schedule = "{schedule}"
batch_size = {batch_size}
"""


def write_daemon_config(root: Path, base_url: str, *, port: int, schedule: str = "every 2s",
                        batch_size: int = 50, drain_seconds: float = 30,
                        sticky: dict[str, object] | None = None) -> Path:
    path = write_config(root, base_url, sticky=sticky,
                        sources=csv_source(schedule, batch_size))
    with path.open("a", encoding="utf-8") as fh:
        fh.write(f"\n[daemon]\nport = {port}\ndrain_seconds = {drain_seconds}\n")
    return path


def child_env() -> dict[str, str]:
    return {**os.environ, API_KEY_ENV: TEST_KEY, STICKER_KEY_ENV: STICKER_TEST_KEY,
            "PYTHONUNBUFFERED": "1"}


def wait_until(condition: Callable[[], bool], what: str, timeout: float = WAIT,
               alive: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if alive is not None and alive.poll() is not None:
            raise AssertionError(f"the process exited ({alive.returncode}) before {what}")
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


@dataclass
class DaemonProcess:
    proc: subprocess.Popen[bytes]
    port: int
    log_path: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def get(self, path: str) -> httpx2.Response | None:
        """The answer, or None while nothing listens."""
        try:
            return httpx2.get(self.url + path, timeout=10)
        except httpx2.TransportError:
            return None

    def health(self) -> dict[str, Any]:
        response = self.get("/healthz")
        assert response is not None, "the health server does not answer"
        return dict(response.json())

    def source(self) -> dict[str, Any]:
        return dict(self.health()["sources"][0])

    def wait_until(self, condition: Callable[[], bool], what: str,
                   timeout: float = WAIT) -> None:
        wait_until(condition, what, timeout, alive=self.proc)

    def signal(self, sig: signal.Signals) -> None:
        self.proc.send_signal(sig)

    def wait(self, timeout: float = WAIT) -> int:
        return self.proc.wait(timeout=timeout)

    def log_events(self) -> list[dict[str, Any]]:
        events = []
        for line in self.log_path.read_text(encoding="utf-8").splitlines():
            if line.startswith("{"):
                events.append(json.loads(line))
        return events

    def log_text(self) -> str:
        return self.log_path.read_text(encoding="utf-8")[-4000:]


@pytest.fixture
def start_daemon(tmp_path: Path) -> Iterator[Callable[[Path, int], DaemonProcess]]:
    started: list[DaemonProcess] = []

    def start(config: Path, port: int) -> DaemonProcess:
        log_path = tmp_path / f"daemon{len(started)}.log"
        with log_path.open("wb") as log:
            proc = subprocess.Popen(
                [sys.executable, "-m", "connector", "daemon", "--config", str(config)],
                env=child_env(), stdout=subprocess.DEVNULL, stderr=log)
        daemon = DaemonProcess(proc, port, log_path)
        started.append(daemon)
        daemon.wait_until(lambda: daemon.get("/healthz") is not None, "the health server")
        return daemon

    yield start
    for daemon in started:  # a failed test must not leave a daemon behind
        if daemon.proc.poll() is None:
            daemon.proc.kill()
            daemon.proc.wait(timeout=30)


def run_once(config: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "connector", "run", "--once", "--config", str(config), *args],
        env=child_env(), capture_output=True, timeout=120, check=False)


def daemon_runs(root: Path) -> list[tuple[str, str | None, str | None]]:
    """(trigger, outcome, finished_at) of every run, oldest first, read from the file."""
    with contextlib.closing(sqlite3.connect(f"file:{root / 'state.db'}?mode=ro",
                                            uri=True)) as conn:
        return list(conn.execute(
            "SELECT trigger, outcome, finished_at FROM runs ORDER BY id"))
