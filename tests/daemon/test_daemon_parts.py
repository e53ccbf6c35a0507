"""The daemon's parts on their own: the [daemon] settings, schedules as triggers, the
metrics exposition, and a port in use refused as a configuration error."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from prometheus_client.parser import text_string_to_metric_families

from connector.config import DaemonSettings, load_settings
from connector.daemon.scheduler import trigger_for
from connector.delivery.traffic import Traffic
from connector.metrics import Metrics
from connector.sync.orchestrator import PassReport, SourceOutcome
from connector.sync.summary import RunSummary
from state import StateStore
from tests.daemon.conftest import child_env, write_daemon_config
from tests.support import write_config


def test_daemon_settings_defaults_file_and_environment(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_config(tmp_path, "http://127.0.0.1:9")
    assert load_settings(path).daemon == DaemonSettings(
        host="127.0.0.1", port=9464, drain_seconds=30, misfire_grace_seconds=60)
    path.write_text(path.read_text() + "\n[daemon]\nport = 0\ndrain_seconds = 5\n")
    assert load_settings(path).daemon.port == 0
    monkeypatch.setenv("STICKY_SYNC_DAEMON__PORT", "9500")
    settings = load_settings(path)
    assert settings.daemon.port == 9500 and settings.daemon.drain_seconds == 5


def test_schedules_become_interval_and_cron_triggers_in_the_tenant_time_zone() -> None:
    now = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    interval = trigger_for("every 1m30s", "America/Los_Angeles")
    first = interval.get_next_fire_time(None, now)
    assert interval.get_next_fire_time(first, first) - first == timedelta(seconds=90)
    nightly = trigger_for("0 3 * * *", "America/Los_Angeles")
    fire = nightly.get_next_fire_time(None, now)
    assert fire == datetime(2026, 1, 2, 3, 0, tzinfo=ZoneInfo("America/Los_Angeles"))
    assert fire.astimezone(UTC) == datetime(2026, 1, 2, 11, 0, tzinfo=UTC)


def exposition(metrics: Metrics) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    body, content_type = metrics.render()
    assert content_type.startswith("text/plain")
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(body.decode())
            for s in family.samples}


def test_a_pass_report_and_live_traffic_in_the_exposition(tmp_path: Path) -> None:
    summary = RunSummary(records_read=10, quarantined=Counter(unknown_customer=1),
                         skipped=Counter(cancelled=2))
    summary.count("sticky", "ws_a", "new", 5)
    summary.count("sticky", "ws_a", "changed", 1)
    summary.count("sticky", "ws_a", "unchanged", 3)
    summary.count("sticky", "-", "quarantined")
    summary.finish()
    report = PassReport(outcomes=[SourceOutcome("t1", "pos", summary.outcome, summary),
                                  SourceOutcome("t1", "web", "busy", RunSummary())])
    traffic = Traffic()
    metrics = Metrics()
    metrics.watch_traffic("sticky", traffic)
    metrics.observe_pass(report)
    traffic.request_sent("ws_a", 0.25)
    traffic.request_sent("ws_a", 0.0)
    traffic.of("ws_a").rate_limited += 1

    got = exposition(metrics)

    def at(name: str, **labels: str) -> float:
        return got[(name, frozenset(labels.items()))]

    pos = {"tenant": "t1", "source": "pos"}
    assert at("sticky_sync_records_read_total", **pos) == 10
    assert at("sticky_sync_records_delivered_total", **pos) == 7
    assert at("sticky_sync_records_quarantined_total", reason="unknown_customer", **pos) == 1
    assert at("sticky_sync_records_skipped_total", reason="cancelled", **pos) == 2
    assert at("sticky_sync_delivered_total", target="sticky", workspace="ws_a", **pos) == 6
    assert at("sticky_sync_payloads_total", target="sticky", workspace="ws_a",
              outcome="unchanged", **pos) == 3
    assert at("sticky_sync_payloads_total", target="sticky", workspace="-",
              outcome="quarantined", **pos) == 1
    assert at("sticky_sync_passes_total", outcome="needs attention", **pos) == 1
    assert at("sticky_sync_passes_total", tenant="t1", source="web", outcome="busy") == 1
    assert at("sticky_sync_run_duration_seconds_count", **pos) == 1
    assert ("sticky_sync_run_duration_seconds_count",
            frozenset({"tenant": "t1", "source": "web"}.items())) not in got
    # traffic is read when scraped: it moved after the pass was observed
    assert at("sticky_sync_requests_total", target="sticky", workspace="ws_a") == 2
    assert at("sticky_sync_rate_limited_total", target="sticky", workspace="ws_a") == 1
    assert at("sticky_sync_limiter_wait_seconds_total", target="sticky",
              workspace="ws_a") == 0.25


def test_cursor_lag_appears_once_a_run_read_its_source_to_the_end(tmp_path: Path) -> None:
    store = StateStore.open(f"sqlite:///{tmp_path / 'state.db'}")
    try:
        metrics = Metrics()
        metrics.refresh_state(store, [("t1", "pos")])
        got = exposition(metrics)
        key = frozenset({"tenant": "t1", "source": "pos"}.items())
        assert ("sticky_sync_cursor_lag_seconds", key) not in got
        assert got[("sticky_sync_quarantine_size", key)] == 0
        store.runs.finish(store.runs.start("t1", "pos", "daemon"), "ok", {})
        metrics.refresh_state(store, [("t1", "pos")])
        assert exposition(metrics)[("sticky_sync_cursor_lag_seconds", key)] >= 0
    finally:
        store.close()


def test_a_port_in_use_is_a_configuration_error(tmp_path: Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        config = write_daemon_config(tmp_path, "http://127.0.0.1:9", port=port)
        result = subprocess.run(
            [sys.executable, "-m", "connector", "daemon", "--config", str(config)],
            env=child_env(), capture_output=True, timeout=60, check=False)
    assert result.returncode == 2, result.stderr.decode()[-2000:]
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr.decode()
