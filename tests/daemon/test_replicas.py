"""Three daemons on one state DB share a source (docs/operations.md "Replicas"): one is
SIGSTOPped past its lease and resumed, another SIGKILLed; the third finishes. Against a
sandbox honouring idempotency keys every event arrives exactly once; against one ignoring
them, duplicates are no more than the requests in flight at the pause and the kill.

On SQLite the first replica is killed instead of paused: a process paused inside a write
transaction holds SQLite's lock, and nothing but its death releases it (documented in
docs/operations.md "Leases"; tests/sync/test_leases.py pauses a SQLite holder outside a
transaction)."""

from __future__ import annotations

import signal
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select

from sandbox import RunningSandbox
from sandbox.testing import SandboxAdmin
from state.schema import leases
from tests.daemon.conftest import DaemonProcess, wait_until, write_daemon_config
from tests.state_backends import state_url_fixture
from tests.support import (
    CUSTOMER_HEADER,
    ORDER_HEADER,
    WS_DOWNTOWN,
    WS_EASTSIDE,
    drop_file,
    free_port,
    phone,
)

state_url = state_url_fixture
pytestmark = pytest.mark.slow
WORKSPACES = (WS_DOWNTOWN, WS_EASTSIDE)
AREAS = ("415", "510", "650")
CUSTOMERS = 300
ORDERS = 1200
IN_FLIGHT = 4
TTL = 5
StartDaemon = Callable[[Path, int], DaemonProcess]


def replica_config(root: Path, base_url: str, state_url: str, index: int) -> tuple[Path, int]:
    """``config-<index>.toml`` in ``root`` (one drop folder, one state DB for all)."""
    port = free_port()
    path = write_daemon_config(root, base_url, port=port, schedule="every 1s",
                               batch_size=100,
                               sticky={"max_in_flight_per_workspace": IN_FLIGHT})
    text = path.read_text(encoding="utf-8").replace(
        'url = "sqlite:///./state.db"', f'url = "{state_url}"\nlease_ttl_seconds = {TTL}')
    replica = root / f"config-{index}.toml"
    replica.write_text(text, encoding="utf-8")
    return replica, port


def holder_pid(state_url: str) -> int | None:
    engine = create_engine(state_url.replace("postgresql://", "postgresql+psycopg://"))
    try:
        with engine.connect() as conn:
            row = conn.execute(select(leases.c.holder).where(
                leases.c.tenant == "t1", leases.c.source == "pos")).first()
    finally:
        engine.dispose()
    if row is None or row.holder is None:
        return None
    return int(row.holder.split(":")[1])


def events(admin: SandboxAdmin) -> list[dict[str, object]]:
    return [e for ws in WORKSPACES for e in admin.events(ws)]


def three_replicas_with_a_pause_and_a_kill(
        tmp_path: Path, sandbox: RunningSandbox, admin: SandboxAdmin,
        start_daemon: StartDaemon, state_url: str) -> list[DaemonProcess]:
    drop = tmp_path / "drop"
    drop.mkdir(exist_ok=True)
    admin.set_faults(latency_ms=20)  # a pass lasts long enough to be interrupted twice
    daemons = [start_daemon(*replica_config(tmp_path, sandbox.base_url, state_url, i))
               for i in range(3)]
    by_pid = {d.proc.pid: d for d in daemons}
    drop_file(drop, "customers_1.csv", CUSTOMER_HEADER, [
        [f"C{i}", phone(i, AREAS[i // 100]), "", "", "", "", "", "", "",
         "001" if i % 2 else "002", ""] for i in range(CUSTOMERS)])
    drop_file(drop, "orders_1.csv", ORDER_HEADER, [
        [f"O{i}", f"C{i % CUSTOMERS}", "", "001" if i % CUSTOMERS % 2 else "002", "",
         f"{i + 1}.00", "", ""] for i in range(ORDERS)])

    def accepted() -> int:
        return int(admin.stats()["totals"]["accepted"])

    wait_until(lambda: accepted() >= 150, "the first replica under way")
    paused = by_pid[holder_pid(state_url) or 0]
    pausing = state_url.startswith("postgresql")
    paused.signal(signal.SIGSTOP if pausing else signal.SIGKILL)
    at_pause = accepted()
    wait_until(lambda: holder_pid(state_url) not in (None, paused.proc.pid),
               "another replica taking over after the lease time", timeout=60)
    second = by_pid[holder_pid(state_url) or 0]
    wait_until(lambda: accepted() >= at_pause + 300, "the second replica under way")
    second.proc.kill()
    second.proc.wait(timeout=30)
    wait_until(lambda: holder_pid(state_url) not in (None, paused.proc.pid,
                                                     second.proc.pid),
               "the third replica taking over at once", timeout=15)
    if pausing:
        paused.signal(signal.SIGCONT)
    wait_until(lambda: len({e["amount_cents"] for e in events(admin)}) >= ORDERS,
               "every event delivered", timeout=120)
    time.sleep(2)  # anything the resumed replica still sent would land by now
    if pausing:
        assert paused.proc.poll() is None, "the resumed replica must live on"
    return daemons


def test_a_paused_and_a_killed_replica_lose_nothing_and_send_nothing_twice(
        tmp_path: Path, sandbox: RunningSandbox, admin: SandboxAdmin,
        start_daemon: StartDaemon, state_url: str) -> None:
    daemons = three_replicas_with_a_pause_and_a_kill(tmp_path, sandbox, admin, start_daemon,
                                                     state_url)
    keys = Counter(str(e["idempotency_key"]) for e in events(admin))
    assert len(keys) == ORDERS and set(keys.values()) == {1}
    phones = Counter((ws, c["phone"]) for ws in WORKSPACES for c in admin.customers(ws))
    assert len({p for _, p in phones}) == CUSTOMERS and set(phones.values()) == {1}
    if state_url.startswith("postgresql"):
        lost = [d for d in daemons
                if d.proc.poll() is None and "lease lost" in d.log_path.read_text()]
        assert lost, "the resumed replica must have noticed it lost its lease"
    for daemon in daemons:
        if daemon.proc.poll() is None:
            daemon.signal(signal.SIGTERM)
            assert daemon.wait() == 0


def test_without_idempotency_duplicates_stay_within_the_requests_in_flight(
        tmp_path: Path, sandbox: RunningSandbox, admin: SandboxAdmin,
        start_daemon: StartDaemon, state_url: str) -> None:
    admin.set_faults(ignore_idempotency=True)
    three_replicas_with_a_pause_and_a_kill(tmp_path, sandbox, admin, start_daemon, state_url)
    amounts = Counter(e["amount_cents"] for e in events(admin))
    assert set(amounts) == {(i + 1) * 100 for i in range(ORDERS)}
    duplicates = sum(amounts.values()) - ORDERS
    interruptions = 2  # the pause and the kill
    assert 0 <= duplicates <= interruptions * IN_FLIGHT * len(WORKSPACES), duplicates
