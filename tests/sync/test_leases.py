"""Leases between real processes, on SQLite and PostgreSQL (docs/architecture.md
"Leases"): a live holder keeps its source (exit 3 for `run`) whatever PID namespace it runs
in; a killed one is replaced at once; one paused past its lease is taken over and, when it
resumes, its renewal and its writes are refused; two runs started together: one runs, the
other is busy."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import delete
from sqlalchemy.exc import OperationalError
from typer.testing import CliRunner

from connector.cli import app
from connector.config import API_KEY_ENV, STICKER_KEY_ENV
from connector.sync import leasing
from connector.sync.leasing import holder_id, release_lease
from sandbox.testing import SandboxAdmin
from state.leases import Lease
from state.schema import leases
from tests.state_backends import state_url_fixture
from tests.support import (
    CUSTOMER_HEADER,
    STICKER_TEST_KEY,
    TEST_KEY,
    WS_DOWNTOWN,
    drop_file,
    phone,
)
from tests.sync.conftest import Harness

state_url = state_url_fixture
runner = CliRunner()
ROOT = Path(__file__).resolve().parents[2]

HOLDER = """
import os, sys
from state import StateStore
from connector.sync.leasing import holder_id
store = StateStore.open(sys.argv[1])
lease = store.leases.acquire("t1", "pos", holder_id(), float(sys.argv[2]))
print("held" if lease else "busy", os.getpid(), flush=True)
if sys.stdin.readline().strip() == "write" and lease is not None:
    renewed = store.leases.renew(lease, 60)
    try:
        store.commit_batch("t1", "pos", "customers", {"row": 99}, [], [], None, lease=lease)
        print("wrote", renewed, flush=True)
    except Exception as exc:
        print("refused", renewed, type(exc).__name__, exc, flush=True)
"""


@pytest.fixture
def leased(make_harness: Callable[..., Harness], state_url: str) -> Harness:
    harness = make_harness(state_url=state_url)
    drop_file(harness.drop, "customers_1.csv", CUSTOMER_HEADER, [
        ["C1", phone(1), "", "", "", "", "", "", "", "001", ""]])
    return harness


@pytest.fixture
def holders() -> Iterator[Callable[..., subprocess.Popen[str]]]:
    started: list[subprocess.Popen[str]] = []

    def start(url: str, ttl: float, *, prefix: tuple[str, ...] = ()) -> subprocess.Popen[str]:
        proc = subprocess.Popen([*prefix, sys.executable, "-c", HOLDER, url, str(ttl)],
                                cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        started.append(proc)
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("held"), f"{line!r} {proc.stderr.read() if proc.stderr else ''}"
        return proc

    yield start
    for proc in started:
        if proc.poll() is None:
            proc.send_signal(signal.SIGCONT)
            proc.kill()
        proc.communicate(timeout=30)


def run(harness: Harness) -> tuple[int, str]:
    result = runner.invoke(app, ["run", "--config", str(harness.root / "config.toml")],
                           env={"COLUMNS": "250"})
    return result.exit_code, result.output


def test_a_live_holder_keeps_its_source_and_a_killed_one_is_replaced_at_once(
        leased: Harness, admin: SandboxAdmin, holders: Callable[..., subprocess.Popen[str]],
        state_url: str) -> None:
    holder = holders(state_url, 600)
    code, output = run(leased)
    assert code == 3 and "another run holds t1/pos" in output, output
    assert admin.customers(WS_DOWNTOWN) == []
    status = runner.invoke(app, ["status", "--config", str(leased.root / "config.toml")],
                           env={"COLUMNS": "250"}).output
    assert f"pos: held by {socket.gethostname()}:{holder.pid}:" in status, status
    assert "(generation 1, until" in status
    holder.kill()  # no release: the kernel (or the server) drops its liveness lock
    holder.wait()
    code, output = run(leased)  # a 600 s lease, taken over at once
    assert code == 0, output
    assert len(admin.customers(WS_DOWNTOWN)) == 1


def test_a_holder_in_another_pid_namespace_is_alive_not_dead(
        leased: Harness, admin: SandboxAdmin, holders: Callable[..., subprocess.Popen[str]],
        state_url: str) -> None:
    if shutil.which("unshare") is None or subprocess.run(
            ["unshare", "--pid", "--fork", "true"], check=False,
            capture_output=True).returncode != 0:
        pytest.skip("unshare --pid needs util-linux and root (CI runs as root)")
    holder = holders(state_url, 600, prefix=("unshare", "--pid", "--fork", "--kill-child"))
    code, output = run(leased)  # its PID means nothing here, its lock does
    assert code == 3 and "another run holds t1/pos" in output, output
    assert admin.customers(WS_DOWNTOWN) == []
    holder.kill()
    holder.communicate(timeout=30)


def test_a_holder_paused_past_its_lease_is_taken_over_and_its_writes_refused(
        leased: Harness, admin: SandboxAdmin, holders: Callable[..., subprocess.Popen[str]],
        state_url: str) -> None:
    holder = holders(state_url, 2)
    holder.send_signal(signal.SIGSTOP)  # alive, holding its lock, renewing nothing
    assert run(leased)[0] == 3
    time.sleep(2.5)
    code, output = run(leased)
    assert code == 0, output
    assert len(admin.customers(WS_DOWNTOWN)) == 1
    holder.send_signal(signal.SIGCONT)
    out, err = holder.communicate("write\n", timeout=30)
    assert out.startswith("refused False LeaseLost"), out + err
    assert "was taken over" in out


def test_two_runs_started_together_one_runs_the_other_is_busy(
        leased: Harness, admin: SandboxAdmin, state_url: str) -> None:
    env = {**os.environ, API_KEY_ENV: TEST_KEY, STICKER_KEY_ENV: STICKER_TEST_KEY}
    command = [sys.executable, "-m", "connector", "run", "--config",
               str(leased.root / "config.toml")]
    store = leased.store()
    try:
        for attempt in range(3):
            with store.engine.begin() as conn:  # no lease row yet: the insert race
                conn.execute(delete(leases))
            drop_file(leased.drop, f"customers_{attempt + 2}.csv", CUSTOMER_HEADER, [
                ["C1", phone(1), "", "", "", "", "", "", "", "001", ""]])
            both = [subprocess.Popen(command, env=env, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT) for _ in range(2)]
            codes = sorted(p.wait(timeout=120) for p in both)
            for proc in both:
                assert proc.stdout is not None
                proc.stdout.close()
            assert codes in ([0, 3], [0, 0]), codes  # never a failure
    finally:
        store.close()
    assert len(admin.customers(WS_DOWNTOWN)) == 1


def test_a_lease_this_process_could_not_release_is_taken_by_its_next_pass(
        harness: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    store = harness.store()
    try:
        first = store.leases.acquire("t1", "pos", holder_id(), ttl=600.0)
        assert first is not None
        assert store.leases.acquire("t1", "pos", holder_id(), ttl=600.0) is None  # first works

        def locked(*_: object) -> None:
            raise OperationalError("UPDATE leases", {}, sqlite3.OperationalError(
                "database is locked"))

        with monkeypatch.context() as patch:  # the state DB refuses the release
            patch.setattr(store.leases, "release", locked)
            release_lease(store, first)
        assert store.leases.holder("t1", "pos") is None  # its liveness lock is gone
        second = store.leases.acquire("t1", "pos", holder_id(), ttl=600.0)  # no 10-minute wait
        assert second is not None and second.generation == first.generation + 1
        assert store.leases.acquire("t1", "pos", holder_id(), ttl=600.0) is None
        release_lease(store, second)
        assert store.leases.holder("t1", "pos") is None
    finally:
        store.close()


def test_the_keeper_renews_every_few_seconds_whatever_the_ttl(
        harness: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    """A 120 s lease is renewed (and its liveness lock checked) every RENEW_EVERY seconds,
    not only every quarter of the TTL; callers queued behind a renewal share it."""
    monkeypatch.setattr(leasing, "RENEW_EVERY", 0.2)
    store = harness.store()
    renewals: list[float] = []
    real_renew = store.leases.renew

    def counted(lease: Lease, ttl: float) -> bool:
        renewals.append(time.monotonic())
        return real_renew(lease, ttl)

    monkeypatch.setattr(store.leases, "renew", counted)

    async def scenario() -> None:
        lease = store.leases.acquire("t1", "pos", holder_id(), ttl=120.0)
        assert lease is not None
        held = leasing.HeldLease(store, lease, 120.0)
        keeper = asyncio.create_task(held.keep())
        await asyncio.sleep(1.1)
        keeper.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await keeper
        assert 4 <= len(renewals) <= 6, renewals
        before = len(renewals)
        assert all(await asyncio.gather(*(held.renew() for _ in range(5))))
        assert len(renewals) == before + 1  # the four queued behind it did not renew again
        release_lease(store, lease)

    try:
        asyncio.run(scenario())
    finally:
        store.close()
