"""Each way the state DB can fail, met by a real `sticky-sync run` process: one line that
names the DB, what is wrong and what to do, exit code 5 (docs/operations.md "When the
state DB fails"), no traceback, and a rerun once the cause is gone that delivers every
customer and event exactly once (docs/architecture.md: the ledger resends what was read
and not settled under the same idempotency keys)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from connector.config import API_KEY_ENV, STICKER_KEY_ENV
from connector.outcomes import ExitCode
from sandbox.testing import SandboxAdmin
from tests.support import (
    CUSTOMER_HEADER,
    ORDER_HEADER,
    STICKER_TEST_KEY,
    TEST_KEY,
    WS_DOWNTOWN,
    WS_EASTSIDE,
    drop_file,
    free_port,
    phone,
)
from tests.sync.conftest import Harness

N_CUSTOMERS = 80
N_ORDERS = 240
WORKSPACES = (WS_DOWNTOWN, WS_EASTSIDE)

pytestmark = pytest.mark.slow


def drop_sample(drop: Path, customers: int = N_CUSTOMERS, orders: int = N_ORDERS) -> None:
    """Customers (and orders) in a file named after their count (a second drop is a new
    file; its first customers are the same people, unchanged)."""
    drop_file(drop, f"customers_{customers}.csv", CUSTOMER_HEADER, [
        [f"C{i}", phone(i, "415" if i < 100 else "510"), "", "", "", "", "", "", "",
         "001" if i % 2 else "002", ""] for i in range(customers)])
    if not orders:
        return
    drop_file(drop, f"orders_{orders}.csv", ORDER_HEADER, [
        [f"O{i}", f"C{i % customers}", "", "001" if i % 3 else "002", "", f"{i + 1}.00", "",
         ""] for i in range(orders)])


def with_state(harness: Harness, **keys: object) -> Path:
    """The harness's config with ``keys`` in its ``[state]`` section."""
    config = harness.root / "config.toml"
    text = config.read_text(encoding="utf-8")
    lines = "".join(f"{k} = {v!r}\n" if not isinstance(v, str) else f'{k} = "{v}"\n'
                    for k, v in keys.items())
    if "url" in keys:
        text = "\n".join(line for line in text.splitlines()
                          if not line.startswith('url = "sqlite'))
    config.write_text(text.replace("[state]\n", "[state]\n" + lines, 1), encoding="utf-8")
    return config


def sticky_sync(config: Path, *args: str, wrapper: str | None = None
                ) -> subprocess.Popen[bytes]:
    """``sticky-sync run`` (or ``args``) as its own process; ``wrapper``: Python run before
    the CLI in that process (a resource limit)."""
    env = {**os.environ, API_KEY_ENV: TEST_KEY, STICKER_KEY_ENV: STICKER_TEST_KEY,
           "PYTHONUNBUFFERED": "1", "COLUMNS": "250"}
    command = [*(args or ("run",)), "--config", str(config)]
    if wrapper is None:
        argv = [sys.executable, "-m", "connector", *command]
    else:
        argv = [sys.executable, "-c",
                f"{wrapper}\nimport sys\nfrom connector.cli import main\n"
                f"sys.argv = ['sticky-sync', *{command!r}]\nmain()"]
    return subprocess.Popen(argv, env=env, cwd=config.parent, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)


def finish(proc: subprocess.Popen[bytes], timeout: float = 120) -> tuple[int, str]:
    output, _ = proc.communicate(timeout=timeout)
    return proc.returncode, output.decode("utf-8", "replace")


def flat(text: str) -> str:
    return " ".join(text.split())


def wait_for_accepted(admin: SandboxAdmin, proc: subprocess.Popen[bytes], more: int) -> None:
    target = admin.stats()["totals"]["accepted"] + more
    deadline = time.monotonic() + 60
    while admin.stats()["totals"]["accepted"] < target:
        assert proc.poll() is None, "the run ended before the state DB failed under it"
        assert time.monotonic() < deadline, "the run did not get going"
        time.sleep(0.02)


@contextmanager
def write_lock(db: Path) -> Iterator[None]:
    """Another process's write transaction on the state DB (a backup, a sqlite3 shell)."""
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        conn.execute("ROLLBACK")
        conn.close()


def assert_delivered_once(admin: SandboxAdmin, customers: int = N_CUSTOMERS,
                          orders: int = N_ORDERS) -> None:
    per_workspace = Counter((ws, c["phone"]) for ws in WORKSPACES for c in admin.customers(ws))
    assert set(per_workspace.values()) == {1}, per_workspace.most_common(3)
    assert len({phone for _, phone in per_workspace}) == customers
    keys = Counter(e["idempotency_key"] for ws in WORKSPACES for e in admin.events(ws))
    assert len(keys) == orders and set(keys.values()) == {1}, keys.most_common(3)


def assert_one_clear_line(code: int, output: str, *phrases: str) -> None:
    text = flat(output)
    assert code == ExitCode.STATE_UNAVAILABLE == 5, output
    assert "Traceback" not in output, output
    for phrase in phrases:
        assert phrase in text, output
    assert "nothing is lost" in text or "nothing was read or sent" in text, output


def first_run(harness: Harness, config: Path | None = None) -> Path:
    """Three customers synced: the state DB exists and holds a run; the full sample is
    dropped for the run the test breaks."""
    config = config or harness.root / "config.toml"
    drop_sample(harness.drop, customers=3, orders=0)
    code, output = finish(sticky_sync(config))
    assert code == 0, output
    drop_sample(harness.drop)
    return config


def rerun_delivers_everything_once(config: Path, admin: SandboxAdmin) -> None:
    code, output = finish(sticky_sync(config))
    assert code == 0, output
    assert_delivered_once(admin)


def test_a_db_locked_before_the_run_is_waited_for_then_given_up(
        harness: Harness, admin: SandboxAdmin) -> None:
    config = first_run(harness, with_state(harness, busy_timeout_seconds=1))
    with write_lock(harness.root / "state.db"):
        started = time.monotonic()
        code, output = finish(sticky_sync(config))
        waited = time.monotonic() - started
    assert_one_clear_line(code, output, "is locked by another process: waiting up to 1 s",
                          "is locked by another process for more than 1 s",
                          "raise [state] busy_timeout_seconds")
    assert waited >= 1
    assert admin.stats()["totals"]["accepted"] == 3  # nothing was sent under the lock
    rerun_delivers_everything_once(config, admin)


def test_a_lock_taken_in_the_middle_of_a_run_stops_it_and_the_rerun_sends_the_rest_once(
        harness: Harness, admin: SandboxAdmin) -> None:
    drop_sample(harness.drop)
    config = with_state(harness, busy_timeout_seconds=1)
    admin.set_faults(latency_ms=40)
    proc = sticky_sync(config)
    wait_for_accepted(admin, proc, 60)
    with write_lock(harness.root / "state.db"):
        code, output = finish(proc)
    assert_one_clear_line(code, output, "is locked by another process for more than 1 s")
    sent = admin.stats()["totals"]["accepted"]
    assert 60 <= sent < N_CUSTOMERS + N_ORDERS, "the lock must have stopped the run midway"
    admin.set_faults(latency_ms=0)
    rerun_delivers_everything_once(config, admin)


FILE_SIZE_LIMIT = """
import resource
resource.setrlimit(resource.RLIMIT_FSIZE, ({limit}, {limit}))
"""


def test_a_full_disk_stops_the_run_and_the_rerun_sends_everything_once(
        harness: Harness, admin: SandboxAdmin) -> None:
    config = first_run(harness)
    db = harness.root / "state.db"
    # a file size limit stands for the full disk: writes past it fail with EFBIG
    limit = db.stat().st_size + 16_384
    code, output = finish(sticky_sync(config, wrapper=FILE_SIZE_LIMIT.format(limit=limit)))
    assert 3 < admin.stats()["totals"]["accepted"] < N_CUSTOMERS + N_ORDERS  # midway
    assert_one_clear_line(code, output, f"state DB {db}",
                          "cannot be written: the disk is full", "free space and run again")
    rerun_delivers_everything_once(config, admin)


def test_an_unreachable_postgresql_is_named_without_its_password(
        harness: Harness, admin: SandboxAdmin) -> None:
    pytest.importorskip("psycopg")
    drop_sample(harness.drop, customers=3, orders=0)
    port = free_port()
    config = with_state(
        harness, url=f"postgresql+psycopg://sync:hunter2@127.0.0.1:{port}/sticky")
    code, output = finish(sticky_sync(config))
    assert_one_clear_line(code, output, f"state DB 127.0.0.1:{port}/sticky cannot be reached",
                          "is the PostgreSQL server running")
    assert "hunter2" not in output
    assert admin.stats()["totals"]["accepted"] == 0
    assert [p.name for p in harness.drop.iterdir() if p.is_file()] == ["customers_3.csv"]


def test_a_newer_schema_says_upgrade_and_the_same_db_works_once_it_is_understood(
        harness: Harness, admin: SandboxAdmin) -> None:
    config = first_run(harness)
    db = harness.root / "state.db"
    with sqlite3.connect(db) as conn:
        [current] = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        conn.execute("UPDATE alembic_version SET version_num = '0099'")
        conn.execute("UPDATE state_meta SET value = 'sticky-sync 9.9.0' "
                     "WHERE name = 'written_by'")
    code, output = finish(sticky_sync(config))
    assert_one_clear_line(code, output, "written by a newer sticky-sync (sticky-sync 9.9.0)",
                          "upgrade sticky-sync")
    assert admin.stats()["totals"]["accepted"] == 3
    with sqlite3.connect(db) as conn:  # the upgrade, as far as this DB is concerned
        conn.execute("UPDATE alembic_version SET version_num = ?", (current,))
    rerun_delivers_everything_once(config, admin)


def test_a_damaged_db_says_restore_and_the_restored_backup_sends_the_rest_once(
        harness: Harness, admin: SandboxAdmin) -> None:
    config = first_run(harness)
    db = harness.root / "state.db"
    backup = harness.root / "state.db.backup"
    backup.write_bytes(db.read_bytes())  # the run closed it: no WAL to copy with it
    db.write_bytes(b"\x00garbage" * 4096)  # a bad disk, a half-copied file
    code, output = finish(sticky_sync(config))
    assert_one_clear_line(code, output, f"state DB {db} is not a readable SQLite database",
                          "restore it from a backup")
    assert admin.stats()["totals"]["accepted"] == 3
    db.write_bytes(backup.read_bytes())
    rerun_delivers_everything_once(config, admin)
