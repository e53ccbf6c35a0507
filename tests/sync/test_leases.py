"""Leases between processes: a holder elsewhere blocks a run (exit 3) until its TTL
runs out; a holder on this machine that was killed is replaced at once."""

from __future__ import annotations

import socket
import sqlite3
import subprocess
import time

import pytest
from sqlalchemy.exc import OperationalError
from typer.testing import CliRunner

from connector.cli import app
from connector.sync.leasing import claim_lease, holder_id, release_lease
from sandbox.testing import SandboxAdmin
from tests.support import CUSTOMER_HEADER, WS_DOWNTOWN, drop_file, phone
from tests.sync.conftest import Harness

runner = CliRunner()


def _run(harness: Harness) -> int:
    return runner.invoke(app, ["run", "--config", str(harness.root / "config.toml")]).exit_code


def _one_customer(harness: Harness) -> None:
    drop_file(harness.drop, "customers_1.csv", CUSTOMER_HEADER, [
        ["C1", phone(1), "", "", "", "", "", "", "", "001", ""]])


def test_a_lease_held_on_another_machine_blocks_until_its_ttl_expires(
        harness: Harness, admin: SandboxAdmin) -> None:
    _one_customer(harness)
    store = harness.store()
    try:
        # a replica on another host took the source, then died without releasing it
        assert store.leases.acquire("t1", "pos", "replica-b:4242:deadbeef", ttl=2.0)
        assert _run(harness) == 3
        assert admin.customers(WS_DOWNTOWN) == []
        deadline = time.monotonic() + 10
        while store.leases.holder("t1", "pos") is not None and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _run(harness) == 0  # expired: taken over
        assert len(admin.customers(WS_DOWNTOWN)) == 1
        assert store.leases.holder("t1", "pos") is None  # released after the run
    finally:
        store.close()


def test_a_killed_holder_on_this_machine_is_replaced_without_waiting(
        harness: Harness, admin: SandboxAdmin) -> None:
    _one_customer(harness)
    victim = subprocess.Popen(["sleep", "60"])
    victim.kill()
    victim.wait()
    store = harness.store()
    try:
        stale = f"{socket.gethostname()}:{victim.pid}:0badcafe"
        assert store.leases.acquire("t1", "pos", stale, ttl=600.0)
        assert _run(harness) == 0
        assert len(admin.customers(WS_DOWNTOWN)) == 1
    finally:
        store.close()


def test_a_live_holder_on_this_machine_is_respected(harness: Harness) -> None:
    _one_customer(harness)
    alive = subprocess.Popen(["sleep", "60"])
    store = harness.store()
    try:
        holder = f"{socket.gethostname()}:{alive.pid}:0badcafe"
        assert store.leases.acquire("t1", "pos", holder, ttl=600.0)
        result = runner.invoke(app, ["run", "--json", "--config",
                                     str(harness.root / "config.toml")])
        assert result.exit_code == 3
        assert "another run holds t1/pos" in result.stdout
    finally:
        alive.kill()
        alive.wait()
        store.close()


def test_a_lease_this_process_could_not_release_is_taken_by_its_next_pass(
        harness: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    store = harness.store()
    try:
        first, second, third = holder_id(), holder_id(), holder_id()
        assert claim_lease(store, "t1", "pos", first, ttl=600.0)
        assert not claim_lease(store, "t1", "pos", second, ttl=600.0)  # first still works

        def locked(*_: object) -> None:
            raise OperationalError("DELETE FROM leases", {}, sqlite3.OperationalError(
                "database is locked"))

        with monkeypatch.context() as patch:  # the state DB refuses the release
            patch.setattr(store.leases, "release", locked)
            release_lease(store, "t1", "pos", first)
        assert store.leases.holder("t1", "pos").holder == first  # type: ignore[union-attr]
        assert claim_lease(store, "t1", "pos", second, ttl=600.0)  # no 10-minute wait
        assert store.leases.holder("t1", "pos").holder == second  # type: ignore[union-attr]
        assert not claim_lease(store, "t1", "pos", third, ttl=600.0)
        release_lease(store, "t1", "pos", second)
        assert store.leases.holder("t1", "pos") is None
    finally:
        store.close()
