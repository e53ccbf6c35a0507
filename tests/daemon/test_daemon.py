"""A real `sticky-sync daemon` process against the sandbox: scheduled passes, /healthz and
/metrics, a graceful stop on SIGTERM mid-run (nothing lost, nothing sent twice), a
concurrent `run --once` refused with exit 3, and a second signal cancelling the drain."""

from __future__ import annotations

import json
import signal
import sqlite3
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from sandbox import RunningSandbox
from sandbox.testing import SandboxAdmin
from tests.daemon.conftest import (
    DaemonProcess,
    daemon_runs,
    run_once,
    write_daemon_config,
)
from tests.support import (
    CUSTOMER_HEADER,
    ORDER_HEADER,
    WS_DOWNTOWN,
    WS_EASTSIDE,
    drop_file,
    free_port,
    phone,
)

pytestmark = pytest.mark.slow
WORKSPACES = (WS_DOWNTOWN, WS_EASTSIDE)
AREAS = ("415", "510", "650", "408")  # phone() has 100 numbers per area code
StartDaemon = Callable[[Path, int], DaemonProcess]


def customer_rows(first: int, count: int) -> list[list[object]]:
    return [[f"C{i}", phone(i, AREAS[i // 100]), "", "", "", "", "", "", "",
             "001" if i % 2 else "002", ""] for i in range(first, first + count)]


def order_rows(first: int, count: int) -> list[list[object]]:
    return [[f"O{i}", f"C{i}", "", "001" if i % 3 else "002", "", f"{i + 1}.00", "", ""]
            for i in range(first, first + count)]


def customers(admin: SandboxAdmin) -> list[dict[str, object]]:
    return [c for ws in WORKSPACES for c in admin.customers(ws)]


def people(admin: SandboxAdmin) -> int:
    """Distinct customers (one who buys in another store's workspace lives in both)."""
    return len({c["phone"] for c in customers(admin)})


def events(admin: SandboxAdmin) -> list[dict[str, object]]:
    return [e for ws in WORKSPACES for e in admin.events(ws)]


def samples(text: str) -> dict[str, list[tuple[dict[str, str], float]]]:
    """Every sample of a Prometheus exposition by sample name (parsed by the reference
    parser, so the output is valid exposition format too)."""
    found: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found.setdefault(sample.name, []).append((dict(sample.labels), sample.value))
    return found


def value(found: dict[str, list[tuple[dict[str, str], float]]], name: str,
          **labels: str) -> float:
    return sum(v for got, v in found.get(name, []) if labels.items() <= got.items())


def stop_event(daemon: DaemonProcess) -> dict[str, Any]:
    """The one-line summary the daemon logs as it stops."""
    stopped = [e for e in daemon.log_events() if e.get("event") == "daemon stopped"]
    assert len(stopped) == 1, daemon.log_text()
    return stopped[0]


def test_scheduled_passes_health_metrics_and_a_clean_stop(
        tmp_path: Path, sandbox: RunningSandbox, admin: SandboxAdmin,
        start_daemon: StartDaemon) -> None:
    port = free_port()
    config = write_daemon_config(tmp_path, sandbox.base_url, port=port, schedule="every 2s")
    drop = tmp_path / "drop"
    drop_file(drop, "customers_1.csv", CUSTOMER_HEADER, customer_rows(0, 10))
    # an order of a customer nobody knows (and no phone): quarantined
    drop_file(drop, "orders_1.csv", ORDER_HEADER,
              [*order_rows(0, 10), ["O-ORPHAN", "C-NOBODY", "", "001", "", "9.00", "", ""]])

    daemon = start_daemon(config, port)
    daemon.wait_until(lambda: daemon.source()["passes"] >= 1, "the first pass")
    assert people(admin) == 10 and len(events(admin)) == 10

    # a file dropped between passes is delivered by a later scheduled pass
    drop_file(drop, "customers_2.csv", CUSTOMER_HEADER, customer_rows(10, 5))
    drop_file(drop, "orders_2.csv", ORDER_HEADER, order_rows(10, 5))
    daemon.wait_until(lambda: len(events(admin)) == 15 and people(admin) == 15,
                      "the second file delivered")
    daemon.wait_until(lambda: sum(1 for r in daemon_runs(tmp_path)
                                  if r[0] == "daemon" and r[2] is not None) >= 2,
                      "two finished scheduled runs")

    health = daemon.get("/healthz")
    assert health is not None and health.status_code == 200
    body = health.json()
    assert body["status"] == "ok" and body["uptime_seconds"] > 0
    [source] = body["sources"]
    assert source["tenant"] == "t1" and source["source"] == "pos"
    assert source["schedule"] == "every 2s" and source["passes"] >= 2
    assert source["last_outcome"] in {"ok", "needs attention"} and source["last_pass_finished_at"]
    assert source["next_run_at"] is not None

    response = daemon.get("/metrics")
    assert response is not None and response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    found = samples(response.text)
    pos = {"tenant": "t1", "source": "pos"}
    for workspace in WORKSPACES:  # what the sandbox counted, request for request
        requests = value(found, "sticky_sync_requests_total", target="sticky",
                         workspace=workspace)
        assert requests > 0 and requests == admin.workspace_stats(workspace)["requests"]
        assert value(found, "sticky_sync_delivered_total", workspace=workspace, **pos) > 0
    assert value(found, "sticky_sync_rate_limited_total") == 0
    assert value(found, "sticky_sync_records_read_total", **pos) >= 31
    assert value(found, "sticky_sync_records_delivered_total", **pos) == 30
    assert value(found, "sticky_sync_records_quarantined_total", reason="unknown_customer",
                 **pos) >= 1
    assert value(found, "sticky_sync_quarantine_size", **pos) == 1
    assert value(found, "sticky_sync_run_duration_seconds_count", **pos) >= 2
    assert value(found, "sticky_sync_run_duration_seconds_sum", **pos) > 0
    assert value(found, "sticky_sync_cursor_lag_seconds", **pos) > 0
    assert value(found, "sticky_sync_passes_total", outcome="needs attention", **pos) >= 1
    assert "sticky_sync_limiter_wait_seconds_total" in found

    daemon.signal(signal.SIGTERM)
    assert daemon.wait() == 0, daemon.log_text()
    summary = stop_event(daemon)
    assert summary["passes"] >= 2 and summary["records_read"] >= 31
    assert summary["delivered"] == 30 and summary["quarantined"] >= 1
    assert summary["uptime_seconds"] > 0
    assert daemon.get("/healthz") is None  # the server is gone with the process
    assert all(r[2] is not None for r in daemon_runs(tmp_path))


N_CUSTOMERS = 300
N_ORDERS = 300


def assert_each_delivered_once(admin: SandboxAdmin) -> None:
    assert people(admin) == N_CUSTOMERS
    sent = events(admin)
    assert sorted(int(str(e["amount_cents"])) for e in sent) == [
        (i + 1) * 100 for i in range(N_ORDERS)]
    assert max(Counter(e["idempotency_key"] for e in sent).values()) == 1


def _slow_daemon(tmp_path: Path, sandbox: RunningSandbox, admin: SandboxAdmin, *,
                 drain_seconds: int, in_flight: int, latency_ms: int) -> tuple[Path, int]:
    """A daemon config over N_CUSTOMERS customers and N_ORDERS orders against a sandbox
    answering after ``latency_ms``. ``every 1s``: `run --once` always finds it due."""
    port = free_port()
    config = write_daemon_config(tmp_path, sandbox.base_url, port=port, schedule="every 1s",
                                 batch_size=50, drain_seconds=drain_seconds,
                                 sticky={"max_in_flight_per_workspace": in_flight})
    drop = tmp_path / "drop"
    drop_file(drop, "customers_1.csv", CUSTOMER_HEADER, customer_rows(0, N_CUSTOMERS))
    drop_file(drop, "orders_1.csv", ORDER_HEADER, order_rows(0, N_ORDERS))
    admin.set_faults(latency_ms=latency_ms)
    return config, port


def test_sigterm_mid_run_drains_then_a_run_finishes_the_rest_exactly_once(
        tmp_path: Path, sandbox: RunningSandbox, admin: SandboxAdmin,
        start_daemon: StartDaemon) -> None:
    # a long first pass: ~50 requests a second
    config, port = _slow_daemon(tmp_path, sandbox, admin, drain_seconds=60, in_flight=4,
                                latency_ms=150)

    daemon = start_daemon(config, port)
    daemon.wait_until(lambda: admin.stats()["totals"]["accepted"] >= 100, "the pass under way")

    # the daemon holds the source: a cron-started run is refused
    busy = run_once(config)
    assert busy.returncode == 3, busy.stderr.decode()[-2000:]
    assert "another run holds t1/pos" in busy.stderr.decode() + busy.stdout.decode()
    assert daemon.source()["running"], "the pass must still be running for this test"

    daemon.signal(signal.SIGTERM)
    answers: list[int] = []

    def drained_or_gone() -> bool:
        response = daemon.get("/healthz")
        if response is None:
            return True
        answers.append(response.status_code)
        if response.status_code == 503:
            assert response.json()["status"] == "draining"
        return False

    daemon.wait_until(lambda: 503 in answers or drained_or_gone(), "a 503 while draining")
    assert daemon.wait() == 0, daemon.log_text()
    summary = stop_event(daemon)
    assert summary["passes"] == 1 and 0 < summary["records_read"] < N_CUSTOMERS + N_ORDERS
    runs = daemon_runs(tmp_path)
    assert [(r[0], r[1]) for r in runs] == [("daemon", "stopped")]  # settled, then stopped
    assert len(events(admin)) < N_ORDERS

    admin.set_faults(latency_ms=0)
    rest = run_once(config, "--json")
    assert rest.returncode == 0, rest.stderr.decode()[-2000:]
    assert json.loads(rest.stdout)["total"]["records_read"] > 0
    assert_each_delivered_once(admin)


def test_a_second_signal_cancels_the_drain_and_nothing_is_lost(
        tmp_path: Path, sandbox: RunningSandbox, admin: SandboxAdmin,
        start_daemon: StartDaemon) -> None:
    # settling one batch would take over 10 s
    config, port = _slow_daemon(tmp_path, sandbox, admin, drain_seconds=600, in_flight=2,
                                latency_ms=1000)

    daemon = start_daemon(config, port)
    daemon.wait_until(lambda: admin.stats()["totals"]["accepted"] >= 4, "the pass under way")
    daemon.signal(signal.SIGTERM)
    daemon.wait_until(lambda: (r := daemon.get("/healthz")) is not None
                      and r.status_code == 503, "draining")
    daemon.signal(signal.SIGINT)
    assert daemon.wait() == 0, daemon.log_text()

    logged = daemon.log_events()
    cancelled = [e for e in logged if str(e.get("event", "")).startswith("cancelling passes")]
    assert [e["reason"] for e in cancelled] == ["second signal"], daemon.log_text()
    assert stop_event(daemon)["passes"] == 1
    assert [(r[0], r[1]) for r in daemon_runs(tmp_path)] == [("daemon", "cancelled")]
    # the cancelled run released its lease (a run is not refused) and left its in-flight
    # rows pending: the next run sends them again under the same idempotency keys
    admin.set_faults(latency_ms=0)
    rest = run_once(config)
    assert rest.returncode == 0, rest.stderr.decode()[-2000:]
    assert_each_delivered_once(admin)


def test_a_locked_state_db_degrades_the_daemon_which_recovers_by_itself(
        tmp_path: Path, sandbox: RunningSandbox, admin: SandboxAdmin,
        start_daemon: StartDaemon) -> None:
    port = free_port()
    config = write_daemon_config(tmp_path, sandbox.base_url, port=port, schedule="every 2s")
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace("[state]\n", "[state]\nbusy_timeout_seconds = 1\n", 1),
                      encoding="utf-8")
    drop = tmp_path / "drop"
    drop_file(drop, "customers_1.csv", CUSTOMER_HEADER, customer_rows(0, 10))
    daemon = start_daemon(config, port)
    daemon.wait_until(lambda: people(admin) == 10, "the first file delivered")

    holder = sqlite3.connect(tmp_path / "state.db", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # a backup or a sqlite3 shell writing
    try:
        drop_file(drop, "customers_2.csv", CUSTOMER_HEADER, customer_rows(10, 5))
        drop_file(drop, "orders_2.csv", ORDER_HEADER, order_rows(0, 15))
        daemon.wait_until(lambda: not daemon.health()["state_db"]["ok"], "the failure seen")
        started = time.monotonic()
        body = daemon.health()
        assert time.monotonic() - started < 1.0
        assert body["status"] == "degraded"
        assert "is locked by another process" in body["state_db"]["error"]
        assert body["state_db"]["since"] and body["state_db"]["retry_at"]
        response = daemon.get("/metrics")
        assert response is not None
        assert value(samples(response.text), "sticky_sync_state_db_up") == 0
        time.sleep(3)  # slots keep coming while it is locked
        assert daemon.proc.poll() is None, "the daemon must not die of a locked DB"
        assert people(admin) == 10 and not events(admin)
    finally:
        holder.execute("ROLLBACK")
        holder.close()

    daemon.wait_until(lambda: len(events(admin)) == 15 and people(admin) == 15,
                      "the files delivered once the DB is free")
    daemon.wait_until(lambda: daemon.health()["state_db"]["ok"], "the recovery seen")
    response = daemon.get("/metrics")
    assert response is not None
    assert value(samples(response.text), "sticky_sync_state_db_up") == 1
    assert daemon.health()["status"] == "ok"
    log = daemon.log_text()
    failures = [e for e in daemon.log_events()
                if e.get("event") == "pass stopped: the state DB failed"]
    assert 1 <= len(failures) <= 10 and "Traceback" not in log
    assert any(e.get("event") == "state DB usable again" for e in daemon.log_events())
    keys = Counter(str(e["idempotency_key"]) for e in events(admin))
    assert set(keys.values()) == {1}
    daemon.signal(signal.SIGTERM)
    assert daemon.wait() == 0
