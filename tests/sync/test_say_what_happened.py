"""One vocabulary for what a pass came to, through the real CLI against the sandbox: the
summary, `--json`, `status` and the exit code agree; files waiting, files rejected whole
and misspelt headers are said, not left in a debug log."""

from __future__ import annotations

import json
import os
import pty
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from connector.cli import app
from sandbox.testing import SandboxAdmin
from tests.support import (
    CUSTOMER_HEADER,
    ORDER_HEADER,
    TEST_KEY,
    WS_DOWNTOWN,
    WS_EASTSIDE,
    WS_ONLINE,
    drop_file,
    free_port,
    phone,
)
from tests.sync.conftest import Harness

runner = CliRunner()


def cli(h: Harness, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, [*args, "--config", str(h.root / "config.toml")],
                           env={"COLUMNS": "250"})
    return result.exit_code, result.output


def customers(h: Harness, name: str = "customers_1.csv", header: list[str] | None = None,
              rows: int = 2) -> Path:
    return drop_file(h.drop, name, header or CUSTOMER_HEADER, [
        [f"C{n}", phone(n), "", "", "", "", "", "", "", "001", ""] for n in range(rows)])


def test_one_quarantined_record_reads_needs_attention_everywhere(harness: Harness) -> None:
    customers(harness)
    drop_file(harness.drop, "orders_1.csv", ORDER_HEADER, [
        ["O1", "C404", "", "001", "", "5.00", "", ""]])  # its customer is unknown
    code, output = cli(harness, "run", "--json")
    assert code == 1
    summary = json.loads(output[output.index("{\n"):])
    assert summary["outcome"] == "needs attention" and summary["exit_code"] == 1
    assert [s["status"] for s in summary["sources"]] == ["needs attention"]
    drop_file(harness.drop, "orders_2.csv", ORDER_HEADER, [
        ["O2", "C405", "", "001", "", "6.00", "", ""]])
    code, output = cli(harness, "run")
    assert code == 1
    assert "outcome: needs attention (exit code 1)" in output
    # the new order, and the first one replayed again: both wait for their customer
    assert "needs attention: 2 record(s) quarantined, 0 rejected" in output
    code, output = cli(harness, "status", "--json")
    status = json.loads(output)
    [source] = status["tenants"][0]["sources"]
    assert [r["outcome"] for r in source["runs"]] == ["needs attention"] * 2
    assert source["open_issues"] == {"quarantined": 2}
    code, output = cli(harness, "status")
    assert "needs attention" in output


def test_a_file_still_being_written_is_named_as_waiting(make_harness: Callable[..., Harness],
                                                        tmp_path: Path) -> None:
    h = make_harness()
    config = h.root / "config.toml"
    config.write_text(config.read_text().replace("stable_seconds = 0",
                                                 "stable_seconds = 5"), encoding="utf-8")
    path = customers(h)
    code, output = cli(h, "run")
    assert code == 0, output
    assert "waiting: customers_1.csv, modified 0." in output
    assert "read once unchanged for 5 s" in output
    code, output = cli(h, "status", "--json")
    [source] = json.loads(output)["tenants"][0]["sources"]
    [unread] = source["unread_files"]
    assert unread["file"] == "customers_1.csv" and unread["state"].startswith("waiting")
    old = time.time() - 120
    os.utime(path, (old, old))  # two minutes later, unchanged: ready, and lagging
    code, output = cli(h, "status", "--json")
    [source] = json.loads(output)["tenants"][0]["sources"]
    assert source["unread_files"][0]["state"] == "ready"
    assert source["lag_seconds"] >= 119


def test_a_file_rejected_whole_exits_1_and_says_how_to_map_it(
        make_harness: Callable[..., Harness]) -> None:
    h = make_harness()
    header = [c if c != "phone" else "Phnoe" for c in CUSTOMER_HEADER]
    customers(h, header=header)
    code, output = cli(h, "run")
    assert code == 1, output
    flat = " ".join(output.split())
    assert "customers_1.csv rejected whole, moved to rejected/" in flat
    assert "'Phnoe' looks like 'phone'" in flat
    assert 'columns = { phone = ["Phnoe"] }' in flat
    assert "headers found: 'customer_id', 'Phnoe'" in flat
    code, output = cli(h, "status", "--json")
    [source] = json.loads(output)["tenants"][0]["sources"]
    assert source["open_issues"] == {"rejected": 1}
    # the mapping is fixed in the config; the file is read again with --reprocess and
    # the old rejection resolves
    config = h.root / "config.toml"
    config.write_text(config.read_text().replace(
        "stable_seconds = 0", 'stable_seconds = 0\ncolumns = { phone = ["Phnoe"] }'),
        encoding="utf-8")
    code, output = cli(h, "run", "--reprocess", "customers_1.csv")
    assert code == 0, output
    assert "customers created" in output
    code, output = cli(h, "status", "--json")
    [source] = json.loads(output)["tenants"][0]["sources"]
    assert source["open_issues"] == {}
    assert (h.drop / "processed" / "customers_1.csv").exists()


def test_reprocess_reads_a_processed_file_again_and_sends_nothing_twice(
        harness: Harness) -> None:
    customers(harness)
    code, _ = cli(harness, "run")
    assert code == 0
    code, output = cli(harness, "run", "--json", "--reprocess", "customers_1.csv")
    assert code == 0, output
    summary = json.loads(output[output.index("{\n"):])
    assert summary["total"]["records_read"] == 2  # read again...
    assert summary["total"]["customers_created"] == 0  # ...and nothing sent twice
    assert summary["total"]["customers_unchanged"] == 2
    code, output = cli(harness, "run", "--reprocess", "nope.csv")
    assert code == 2
    assert "no such file in the processed/ or rejected/ folder" in " ".join(output.split())


def test_a_misspelt_optional_header_is_reported(harness: Harness) -> None:
    header = [c if c != "store_id" else "Stoer ID" for c in CUSTOMER_HEADER]
    customers(harness, header=header)
    code, output = cli(harness, "run")
    flat = " ".join(output.split())
    assert code == 1, output  # read (the column is optional), but a person should look
    assert "column 'Stoer ID' is not used and looks like 'store_id'" in flat
    assert 'columns = { store_id = ["Stoer ID"] }' in flat
    assert "outcome: needs attention" in flat


def test_a_missing_drop_folder_is_a_local_problem(make_harness: Callable[..., Harness]) -> None:
    h = make_harness()
    h.drop.rename(h.root / "elsewhere")
    code, output = cli(h, "run")
    assert code == 4
    flat = " ".join(output.split())
    assert "does not exist (a local problem, nothing was read or sent" in flat
    assert "outcome: failed" in flat


def _set(h: Harness, old: str, new: str) -> None:
    config = h.root / "config.toml"
    config.write_text(config.read_text().replace(old, new, 1), encoding="utf-8")


def test_an_unmapped_store_is_named_with_its_record_count(harness: Harness,
                                                          admin: SandboxAdmin) -> None:
    drop_file(harness.drop, "customers_1.csv", CUSTOMER_HEADER, [
        [f"C{n}", phone(n), "", "", "", "", "", "", "", "017", ""] for n in range(3)])
    code, output = cli(harness, "run")
    flat = " ".join(output.split())
    assert code == 1, output
    assert ("store '017' is not in [tenants.workspaces] of tenant t1: 3 record(s) sent "
            "to the default workspace ws_test_online") in flat
    assert '`"017" = "ws_..."`' in flat
    assert len(admin.customers(WS_ONLINE)) == 3
    code, output = cli(harness, "status")
    assert "store '017' is not in [tenants.workspaces]" in " ".join(output.split())


def test_held_records_of_an_unmapped_store_are_replayed_once_it_is_mapped(
        harness: Harness, admin: SandboxAdmin) -> None:
    _set(harness, 'timezone = "America/Los_Angeles"',
         'timezone = "America/Los_Angeles"\nunmapped_stores = "hold"')
    drop_file(harness.drop, "customers_1.csv", CUSTOMER_HEADER, [
        [f"C{n}", phone(n), "", "", "", "", "", "", "", "017", ""] for n in range(2)])
    code, output = cli(harness, "run")
    flat = " ".join(output.split())
    assert code == 1, output
    assert "2 record(s) held in quarantine until a workspace is named for it" in flat
    assert not any(admin.customers(ws) for ws in (WS_ONLINE, WS_DOWNTOWN, WS_EASTSIDE))
    _set(harness, '"002" = "ws_test_eastside"',
         '"002" = "ws_test_eastside"\n"017" = "ws_test_eastside"')
    code, output = cli(harness, "run")
    assert code == 0, output
    assert len(admin.customers(WS_EASTSIDE)) == 2
    code, output = cli(harness, "status", "--json")
    [source] = json.loads(output)["tenants"][0]["sources"]
    assert source["open_issues"] == {}


def test_an_empty_workspace_in_the_map_is_a_configuration_error(harness: Harness) -> None:
    _set(harness, '"002" = "ws_test_eastside"', '"002" = ""')
    code, output = cli(harness, "run")
    assert code == 2
    assert "tenants[t1].workspaces.002" in " ".join(output.split())


def test_no_text_is_markup(harness: Harness) -> None:
    """Config names in square brackets reach the screen as written: in errors, in
    tables, in --help."""
    code, output = cli(harness, "passes", "mint", "--customer", "pos:C1")
    assert code == 2
    assert "tenant t1 has no [tenants.passes] section" in " ".join(output.split())
    result = runner.invoke(app, ["daemon", "--help"], env={"COLUMNS": "250"})
    assert "[daemon] host:port" in result.output
    result = runner.invoke(app, ["passes", "--help"], env={"COLUMNS": "250"})
    assert "[tenants.passes]" in result.output
    drop_file(harness.drop, "customers_1.csv", CUSTOMER_HEADER, [
        ["[bold]C1[/bold]", "[red]x[/]", "", "Ann", "", "", "", "", "", "001", ""]])
    code, output = cli(harness, "run")
    assert code == 1  # the phone is rejected; the record's id is shown as written
    code, output = cli(harness, "dlq", "list", "--disposition", "rejected")
    assert "customer [bold]C1[/bold]" in output


def test_an_unreachable_target_names_its_url_and_key(make_harness: Callable[..., Harness],
                                                     ) -> None:
    port = free_port()
    h = make_harness(base_url=f"http://127.0.0.1:{port}",
                     sticky={"max_attempts": 2, "retry_budget_seconds": 5})
    customers(h)
    code, output = cli(h, "run")
    flat = " ".join(output.split())
    assert code == 4, output
    assert f"sticky.base_url = http://127.0.0.1:{port}" in flat
    assert "ConnectError" in flat and "outcome: failed (exit code 4)" in flat


def test_run_shows_live_progress_on_a_terminal(harness: Harness) -> None:
    """Under a pseudo-terminal `run` draws a progress bar (records, rates, requests per
    workspace); piped, it writes `run progress` log lines instead."""
    customers(harness, rows=30)
    master, slave = pty.openpty()
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "COLUMNS": "200", "TERM": "xterm", "PYTHONPATH": str(root)}
    proc = subprocess.Popen([sys.executable, "-m", "connector", "run", "--config",
                             str(harness.root / "config.toml")], cwd=root, env=env,
                            stdin=subprocess.DEVNULL, stdout=slave, stderr=slave)
    os.close(slave)
    chunks: list[bytes] = []
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    assert proc.wait(60) == 0
    os.close(master)
    screen = b"".join(chunks).decode("utf-8", "replace")
    assert "run" in screen and "30/30 records" not in screen  # no total is known
    assert "30 records" in screen and "rec/s" in screen and "requests" in screen
    assert "ws_test_downtown 30" in screen  # requests sent per workspace
    piped = subprocess.run([sys.executable, "-m", "connector", "run", "--config",
                            str(harness.root / "config.toml")], cwd=root, env=env,
                           capture_output=True, text=True, timeout=60, check=False)
    assert '"event": "run progress"' in piped.stderr


def test_runs_show_prints_a_past_run_again(harness: Harness) -> None:
    customers(harness)
    drop_file(harness.drop, "orders_1.csv", ORDER_HEADER, [
        ["O1", "C404", "", "001", "", "5.00", "", ""]])
    cli(harness, "run")
    code, output = cli(harness, "runs", "list", "--json")
    assert code == 0
    [run] = json.loads(output)
    assert run["outcome"] == "needs attention" and run["counts"]["records_read"] == 3
    code, output = cli(harness, "runs", "show", str(run["id"]))
    flat = " ".join(output.split())
    assert code == 0, output
    assert "customers created │ 2" in output or "customers created" in flat
    assert "quarantined │ unknown_customer │ 1" in output
    assert "outcome: needs attention" in flat
    code, output = cli(harness, "runs", "show", "999")
    assert code == 2 and "no run has this id" in output


def test_config_prints_each_value_with_its_origin(harness: Harness,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STICKY_SYNC_STICKY__MAX_IN_FLIGHT_PER_WORKSPACE", "4")
    code, output = cli(harness, "config", "--json")
    assert code == 0, output
    rows = {r["key"]: r for r in json.loads(output)}
    assert rows["sticky.max_in_flight_per_workspace"]["value"] == "4"
    assert rows["sticky.max_in_flight_per_workspace"]["origin"] == (
        "environment (STICKY_SYNC_STICKY__MAX_IN_FLIGHT_PER_WORKSPACE)")
    assert rows["sticky.max_attempts"]["origin"] == "file (config.toml)"
    assert rows["sticky.rate_limit_per_second"]["origin"] == "default"
    assert rows["tenants[t1].sources[pos].stable_seconds"]["value"] == "0.0"
    assert rows["tenants[t1].workspaces.001"]["value"] == WS_DOWNTOWN
    key = rows["sticky.api_key"]
    assert key["value"] == "********" and key["origin"].startswith("environment")
    assert TEST_KEY not in output


def test_errors_name_the_variable_the_tenant_and_the_likely_key(
        harness: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STICKY_SYNC_STICKY__RATE_LIMIT_PER_SECOND", "fast")
    code, output = cli(harness, "run")
    flat = " ".join(output.split())
    assert code == 2
    assert ("STICKY_SYNC_STICKY__RATE_LIMIT_PER_SECOND (environment, "
            "sticky.rate_limit_per_second)") in flat
    monkeypatch.delenv("STICKY_SYNC_STICKY__RATE_LIMIT_PER_SECOND")
    _set(harness, "stable_seconds = 0", "stable_secnds = 0")
    code, output = cli(harness, "run")
    flat = " ".join(output.split())
    assert code == 2
    assert ("tenants[t1].sources[pos].stable_secnds: unknown key (did you mean "
            "'stable_seconds'?)") in flat


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output.startswith("sticky-sync 0.")


def test_an_unreadable_state_db_is_a_local_problem(harness: Harness) -> None:
    (harness.root / "state.db").write_bytes(b"this is not a database, just a file " * 200)
    code, output = cli(harness, "run")
    flat = " ".join(output.split())
    assert code == 5, output
    assert "state DB unavailable:" in flat and "is not a readable SQLite database" in flat
    assert "restore it from a backup" in flat
    assert "Traceback" not in output


def test_a_state_db_from_a_newer_version_says_upgrade(harness: Harness) -> None:
    customers(harness)
    assert cli(harness, "run")[0] == 0
    with sqlite3.connect(harness.root / "state.db") as conn:
        conn.execute("UPDATE alembic_version SET version_num = '0099'")
    with sqlite3.connect(harness.root / "state.db") as conn:
        conn.execute("UPDATE state_meta SET value = 'sticky-sync 9.9.0' "
                     "WHERE name = 'written_by'")
    code, output = cli(harness, "status")
    flat = " ".join(output.split())
    assert code == 5, output
    assert "was written by a newer sticky-sync (sticky-sync 9.9.0) than this one" in flat
    assert "upgrade sticky-sync" in flat
