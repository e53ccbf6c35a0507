"""A real `sticky-sync daemon`, its open-file limit lowered to 1,024, against 1,100 idle
and slow connections on loopback: signed webhooks are still accepted and stored once,
`/healthz` answers within a second, the slow connections are cut off, and the log says
so in a few lines, not one per connection."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx2

from connector.config import WebhookSettings
from connector.webhooks.signature import sign
from sandbox import RunningSandbox
from tests.daemon.conftest import DaemonProcess, child_env, csv_source, wait_until
from tests.hostile import HostileClients, ensure_open_files
from tests.support import WS_ONLINE, free_port, write_config

SECRET = "whsec_hostile_test_secret"
OPEN_FILES = 1024


LIMITED = ("import resource, sys; "
           f"resource.setrlimit(resource.RLIMIT_NOFILE, ({OPEN_FILES}, {OPEN_FILES})); "
           "from connector.cli import main; sys.argv[0] = 'sticky-sync'; main()")
"""The daemon with its open-file limit (soft and hard) lowered, as systemd's default."""


def _start(config: Path, port: int, log_path: Path) -> DaemonProcess:
    env = {**child_env(), WebhookSettings.secret_env(WS_ONLINE): SECRET}
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-c", LIMITED, "daemon", "--config", str(config)],
            env=env, stdout=subprocess.DEVNULL, stderr=log)
    daemon = DaemonProcess(proc, port, log_path)
    daemon.wait_until(lambda: daemon.get("/healthz") is not None, "the health server")
    return daemon


def _event(n: int) -> bytes:
    return json.dumps({"id": f"whe_hostile_{n}", "type": "customer.tier_changed",
                       "data": {"customer_id": f"cus_{n}", "tier": "gold"}}).encode()


def test_a_thousand_slow_clients_do_not_stop_webhooks_or_health(
        tmp_path: Path, sandbox: RunningSandbox) -> None:
    ensure_open_files(2 * OPEN_FILES)
    port = free_port()
    config = write_config(tmp_path, sandbox.base_url, sources=csv_source("every 1h", 50))
    with config.open("a", encoding="utf-8") as fh:
        fh.write(f"\n[daemon]\nport = {port}\nheader_timeout_seconds = 3\n"
                 "body_timeout_seconds = 3\n\n[webhooks]\n"
                 f'url = "http://127.0.0.1:{port}/webhooks/sticky/{{workspace}}"\n')
    daemon = _start(config, port, tmp_path / "daemon.log")
    limits = Path(f"/proc/{daemon.proc.pid}/limits").read_text(encoding="utf-8")
    assert any(line.startswith("Max open files") and f" {OPEN_FILES} " in line
               for line in limits.splitlines())
    url = f"{daemon.url}/webhooks/sticky/{WS_ONLINE}"
    health_seconds: list[float] = []
    answers: list[int] = []
    try:
        with HostileClients("127.0.0.1", port, idle=550, slow=550) as hostile:
            assert hostile.refused == 0  # every one got in: the listen backlog holds them
            started = time.monotonic()
            n = 0
            with httpx2.Client(timeout=5) as client:
                while time.monotonic() - started < 8:
                    body = _event(n)
                    answers.append(client.post(url, content=body, headers={
                        "Sticky-Signature": sign(SECRET, body),
                        "Content-Type": "application/json"}).status_code)
                    n += 1
                    if n % 5 == 0:
                        probe = time.monotonic()
                        health = httpx2.get(daemon.url + "/healthz", timeout=5)
                        health_seconds.append(time.monotonic() - probe)
                        assert health.status_code == 200
                    time.sleep(0.1)
            # slow clients get 3 s for their headers: by now they are cut off
            wait_until(lambda: hostile.still_open() < 50, "the slow clients cut off", 20)
            metrics = httpx2.get(daemon.url + "/metrics", timeout=5).text
    finally:
        daemon.signal(signal.SIGTERM)
        assert daemon.wait() == 0
    assert answers and set(answers) == {200}, answers
    assert max(health_seconds) < 1.0, health_seconds
    assert 'sticky_sync_http_connections_shed_total{reason="header_timeout"}' in metrics
    with sqlite3.connect(tmp_path / "state.db") as conn:
        stored = conn.execute("SELECT event_id, deliveries FROM webhook_events").fetchall()
    assert len(stored) == len(answers) and {d for _, d in stored} == {1}
    lines = daemon.log_path.read_text(encoding="utf-8").splitlines()
    assert len(lines) < 300, lines[-20:]
    assert not any("Too many open files" in line or "Traceback" in line for line in lines)
    assert any('"connections shed"' in line for line in lines)
