"""Files that hold personal data are the owner's alone whatever the umask (docs/privacy.md):
the state DB and its WAL and SHM files, its ./var/ folder, the drop folder's processed/ and
rejected/ with the files and errors reports kept there; `check` notes a state DB others
can read."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from connector.cli import app
from connector.config import API_KEY_ENV, STICKER_KEY_ENV
from state import StateStore
from tests.support import (
    CUSTOMER_HEADER,
    STICKER_TEST_KEY,
    TEST_KEY,
    drop_file,
    phone,
)
from tests.sync.conftest import Harness

runner = CliRunner()


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def umask_022() -> Iterator[None]:
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def test_a_fresh_state_db_and_its_wal_are_mode_600_under_umask_022(
        tmp_path: Path, umask_022: None) -> None:
    db = tmp_path / "var" / "sticky-sync.db"
    store = StateStore.open(f"sqlite:///{db}")
    try:
        store.runs.start("t1", "pos", "manual")  # a write: the WAL and SHM files exist
        wal, shm = db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")
        assert wal.exists() and shm.exists()
        assert (mode(db), mode(wal), mode(shm)) == (0o600, 0o600, 0o600)
        assert mode(db.parent) == 0o700  # ./var/ is created by the connector
    finally:
        store.close()
    control = tmp_path / "control.txt"  # what this umask gives any other file
    control.write_text("x")
    assert mode(control) == 0o644


def test_a_run_under_umask_022_keeps_what_it_writes_private(harness: Harness) -> None:
    drop_file(harness.drop, "customers_1.csv", CUSTOMER_HEADER, [
        ["C1", phone(1), "", "", "", "", "", "", "", "001", ""],
        ["C2", "not a phone", "", "", "", "", "", "", "", "001", ""]])
    drop_file(harness.drop, "orders_1.csv", ["nothing", "we", "know"], [["1", "2", "3"]])
    os.chmod(harness.drop / "customers_1.csv", 0o644)  # as an exporter leaves it
    env = {**os.environ, API_KEY_ENV: TEST_KEY, STICKER_KEY_ENV: STICKER_TEST_KEY}
    result = subprocess.run(
        [sys.executable, "-m", "connector", "run", "--config",
         str(harness.root / "config.toml")],
        env=env, capture_output=True, timeout=120, check=False, umask=0o022)
    assert result.returncode == 1, result.stderr.decode()  # a rejected row, a rejected file
    processed, rejected = harness.drop / "processed", harness.drop / "rejected"
    kept = [*processed.iterdir(), *rejected.iterdir()]
    assert {p.name for p in kept} >= {"customers_1.csv", "orders_1.csv"}
    assert any(p.name.endswith(".errors.csv") for p in kept), sorted(p.name for p in kept)
    assert {p.name: mode(p) for p in kept} == {p.name: 0o600 for p in kept}
    assert (mode(processed), mode(rejected)) == (0o700, 0o700)
    assert mode(harness.root / "state.db") == 0o600


def test_check_notes_a_state_db_others_can_read(harness: Harness) -> None:
    store = harness.store()
    store.close()
    db = harness.root / "state.db"
    os.chmod(db, 0o644)  # made by an older version, or copied in by hand
    result = runner.invoke(app, ["check", "--config", str(harness.root / "config.toml")],
                           env={"COLUMNS": "250"})
    flat = " ".join(result.output.split())
    assert f"state DB file {db} is readable by others (mode 0644)" in flat, result.output
    assert f"chmod 600 {db}" in flat
    os.chmod(db, 0o600)
    result = runner.invoke(app, ["check", "--config", str(harness.root / "config.toml")],
                           env={"COLUMNS": "250"})
    assert "readable by others" not in result.output
