"""A real `sticky-sync run` subprocess killed with SIGKILL mid-run, then restarted:
every customer and event arrives exactly once (idempotency honoured), and with the
sandbox ignoring idempotency keys the duplicates are bounded by the requests in flight."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from connector.config import API_KEY_ENV
from sandbox.testing import SandboxAdmin
from tests.support import (
    CUSTOMER_HEADER,
    ORDER_HEADER,
    TEST_KEY,
    WS_DOWNTOWN,
    WS_EASTSIDE,
    drop_file,
    phone,
)
from tests.sync.conftest import Harness

N_CUSTOMERS = 120
N_ORDERS = 360
IN_FLIGHT = 4
WORKSPACES = (WS_DOWNTOWN, WS_EASTSIDE)

pytestmark = pytest.mark.slow


def drop_sample(drop: Path) -> None:
    drop_file(drop, "customers_1.csv", CUSTOMER_HEADER, [
        [f"C{i}", phone(i, "415" if i < 100 else "510"), "", "", "", "", "", "", "",
         "001" if i % 2 else "002", ""] for i in range(N_CUSTOMERS)])
    drop_file(drop, "orders_1.csv", ORDER_HEADER, [
        [f"O{i}", f"C{i % N_CUSTOMERS}", "", "001" if i % 3 else "002", "", f"{i + 1}.00", "",
         ""] for i in range(N_ORDERS)])


def start_run(config: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, API_KEY_ENV: TEST_KEY, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen([sys.executable, "-m", "connector", "run", "--config", str(config)],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def kill_after(proc: subprocess.Popen[bytes], admin: SandboxAdmin, accepted: int) -> bool:
    """SIGKILL once the sandbox has accepted ``accepted`` more requests; False when the
    run had already finished by itself."""
    target = admin.stats()["totals"]["accepted"] + accepted
    deadline = time.monotonic() + 60
    while proc.poll() is None and time.monotonic() < deadline:
        if admin.stats()["totals"]["accepted"] >= target:
            break
        time.sleep(0.02)
    running = proc.poll() is None
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    if proc.stderr is not None:
        proc.stderr.close()
    return running


def events_by_key(admin: SandboxAdmin) -> Counter[str]:
    return Counter(e["idempotency_key"] for ws in WORKSPACES for e in admin.events(ws))


def run_with_kills(harness: Harness, admin: SandboxAdmin) -> None:
    drop_sample(harness.drop)
    config = harness.root / "config.toml"
    # kills in the customer phase and among the events
    killed = [kill_after(start_run(config), admin, accepted) for accepted in (60, 150, 120)]
    assert killed[:2] == [True, True], "the first kills must interrupt a running sync"
    assert sum(events_by_key(admin).values()) > 0
    final = start_run(config)
    _, stderr = final.communicate(timeout=120)
    assert final.returncode == 0, stderr.decode()[-2000:]


def test_killed_and_restarted_run_delivers_each_record_exactly_once(
        make_harness: object, admin: SandboxAdmin) -> None:
    harness = make_harness(sticky={"max_in_flight_per_workspace": IN_FLIGHT})  # type: ignore[operator]
    run_with_kills(harness, admin)

    customers = [c for ws in WORKSPACES for c in admin.customers(ws)]
    assert len({c["phone"] for c in customers}) == N_CUSTOMERS
    events = [e for ws in WORKSPACES for e in admin.events(ws)]
    assert sorted(e["amount_cents"] for e in events) == [(i + 1) * 100 for i in range(N_ORDERS)]
    assert max(events_by_key(admin).values()) == 1


def test_without_idempotency_duplicates_are_bounded_by_requests_in_flight(
        make_harness: object, admin: SandboxAdmin) -> None:
    admin.set_faults(ignore_idempotency=True)
    harness = make_harness(sticky={"max_in_flight_per_workspace": IN_FLIGHT})  # type: ignore[operator]
    run_with_kills(harness, admin)

    events = [e for ws in WORKSPACES for e in admin.events(ws)]
    assert {e["amount_cents"] for e in events} == {(i + 1) * 100 for i in range(N_ORDERS)}
    duplicates = len(events) - N_ORDERS
    kills = 3
    assert 0 <= duplicates <= kills * IN_FLIGHT * len(WORKSPACES)


def test_a_run_killed_while_minting_passes_leaves_one_pass_per_customer(
        make_harness: object, admin: SandboxAdmin) -> None:
    harness = make_harness(sticky={"max_in_flight_per_workspace": IN_FLIGHT},  # type: ignore[operator]
                           passes={"mint_on_create": True})
    drop_sample(harness.drop)
    config = harness.root / "config.toml"
    admin.set_faults(latency_ms=5)  # minting takes a while: room to kill in the middle
    proc = start_run(config)
    deadline = time.monotonic() + 90
    minted = 0
    while proc.poll() is None and time.monotonic() < deadline:
        minted = sum(len(admin.passes(ws)) for ws in WORKSPACES)
        if minted >= 20:
            break
        time.sleep(0.02)
    assert proc.poll() is None, "the run must still be minting when it is killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    if proc.stderr is not None:
        proc.stderr.close()
    customers = {c["id"] for ws in WORKSPACES for c in admin.customers(ws)}
    assert 20 <= minted < len(customers)

    final = start_run(config)
    _, stderr = final.communicate(timeout=120)
    assert final.returncode == 0, stderr.decode()[-2000:]
    per_customer = Counter(p["customer_id"] for ws in WORKSPACES for p in admin.passes(ws))
    assert set(per_customer) == customers  # every customer created here has a pass
    assert max(per_customer.values()) == 1  # and none has two
