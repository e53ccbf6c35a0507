"""A real `sticky-sync daemon` with passes and webhooks on: it mints passes, receives the
sandbox's signed webhooks on its health server, refuses a forged one, applies the tier;
`webhooks subscribe`, `loyalty export` and `status` as real subprocesses."""

from __future__ import annotations

import csv
import io
import json
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx2

from connector.webhooks.signature import sign
from sandbox import RunningSandbox
from sandbox.testing import SandboxAdmin
from tests.daemon.conftest import DaemonProcess, child_env, csv_source
from tests.support import (
    CUSTOMER_HEADER,
    WS_ONLINE,
    drop_file,
    free_port,
    phone,
    write_config,
)


def cli(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "connector", *args, "--config", str(config)],
                          env=child_env(), capture_output=True, text=True, timeout=120,
                          check=False)


def test_the_daemon_receives_verifies_and_applies_sticky_webhooks(
        tmp_path: Path, sandbox: RunningSandbox, admin: SandboxAdmin,
        start_daemon: Callable[[Path, int], DaemonProcess]) -> None:
    port = free_port()
    config = write_config(tmp_path, sandbox.base_url, sources=csv_source("every 2s", 50),
                          passes={"mint_on_create": True})
    with config.open("a", encoding="utf-8") as fh:
        fh.write(f"\n[daemon]\nport = {port}\n\n[webhooks]\n"
                 f'url = "http://127.0.0.1:{port}/webhooks/sticky/{{workspace}}"\n'
                 'secrets_file = "./secrets/webhooks.json"\n')
    drop_file(tmp_path / "drop", "customers_1.csv", CUSTOMER_HEADER,
              [[f"c{i}", phone(i), "", f"N{i}", "", "", "", "", "", "", ""]
               for i in range(3)])
    daemon = start_daemon(config, port)
    daemon.wait_until(lambda: len(admin.passes(WS_ONLINE)) == 3, "three passes minted")

    subscribed = cli(config, "webhooks", "subscribe")
    assert subscribed.returncode == 0, subscribed.stderr
    hooks = admin.webhooks()
    assert {h["workspace"] for h in hooks} >= {WS_ONLINE} and len(hooks) == 3
    for hook in hooks:  # the secret went to the file, never to the screen
        assert hook["secret"] not in subscribed.stdout + subscribed.stderr
    secrets = json.loads((tmp_path / "secrets" / "webhooks.json").read_text())
    assert secrets[WS_ONLINE] == next(h["secret"] for h in hooks
                                      if h["workspace"] == WS_ONLINE)

    customer = admin.customers(WS_ONLINE)[0]
    admin.set_tier(customer["id"], "silver")
    admin.wait_for_deliveries()

    def exported() -> dict[str, dict[str, str]]:
        done = cli(config, "loyalty", "export")
        assert done.returncode == 0, done.stderr
        return {r["sticky_customer_id"]: r for r in csv.DictReader(io.StringIO(done.stdout))}

    daemon.wait_until(lambda: exported().get(customer["id"], {}).get("tier") == "silver",
                      "the tier applied")
    assert exported()[customer["id"]]["pass_status"] == "minted"

    # forged: signed with another secret; and a genuine body signed 10 minutes ago
    body = json.dumps({"id": "whe_forged", "type": "customer.tier_changed",
                       "workspace": WS_ONLINE,
                       "data": {"customer_id": customer["id"], "tier": "platinum"}}).encode()
    url = f"http://127.0.0.1:{port}/webhooks/sticky/{WS_ONLINE}"
    for signature in (sign("whsec_not_the_secret", body),
                      sign(secrets[WS_ONLINE], body, int(time.time()) - 600)):
        answer = httpx2.post(url, content=body, headers={"Sticky-Signature": signature})
        assert answer.status_code == 400
    assert exported()[customer["id"]]["tier"] == "silver"

    status = cli(config, "status", "--json")
    assert status.returncode == 0, status.stderr
    inbox = json.loads(status.stdout)["webhooks"]["inbox"]
    assert inbox["received"] == 1 and inbox["applied"] == 1
    metrics = daemon.get("/metrics")
    assert metrics is not None
    assert ('sticky_sync_webhooks_received_total{outcome="bad_signature",'
            f'workspace="{WS_ONLINE}"}} 1.0') in metrics.text
    assert ('sticky_sync_webhooks_received_total{outcome="stale_timestamp",'
            f'workspace="{WS_ONLINE}"}} 1.0') in metrics.text
    assert 'sticky_sync_wallet_passes_total{outcome="minted",tenant="t1"} 3.0' in metrics.text
    hooks_health = daemon.health()["webhooks"]
    assert hooks_health["path"] == "/webhooks/sticky/{workspace}"
    assert hooks_health["last_round_at"] is not None and hooks_health["last_error"] is None

    daemon.signal(signal.SIGTERM)
    assert daemon.wait() == 0, daemon.log_text()


def test_the_receiver_on_its_own_port_keeps_metrics_off_it(
        tmp_path: Path, sandbox: RunningSandbox,
        start_daemon: Callable[[Path, int], DaemonProcess]) -> None:
    port, hooks_port = free_port(), free_port()
    config = write_config(tmp_path, sandbox.base_url, sources=csv_source("every 1h", 50))
    with config.open("a", encoding="utf-8") as fh:
        fh.write(f"\n[daemon]\nport = {port}\n\n[webhooks]\n"
                 f'url = "https://sync.example.com/hooks/{{workspace}}"\n'
                 f'host = "127.0.0.1"\nport = {hooks_port}\n'
                 'secrets_file = "./hooks.json"\n')
    (tmp_path / "hooks.json").write_text(json.dumps({WS_ONLINE: "whsec_own_port"}))
    daemon = start_daemon(config, port)
    body = json.dumps({"id": "whe_1", "type": "journey.entered", "workspace": WS_ONLINE,
                       "data": {"customer_id": "cus_1", "journey": "welcome"}}).encode()
    hooks = f"http://127.0.0.1:{hooks_port}"
    good = httpx2.post(f"{hooks}/hooks/{WS_ONLINE}", content=body,
                       headers={"Sticky-Signature": sign("whsec_own_port", body)})
    assert good.status_code == 200 and good.json() == {"received": True, "duplicate": False}
    assert httpx2.get(f"{hooks}/metrics").status_code == 404
    assert httpx2.get(f"{hooks}/healthz").status_code == 404
    on_health = httpx2.post(f"{daemon.url}/hooks/{WS_ONLINE}", content=body,
                            headers={"Sticky-Signature": sign("whsec_own_port", body)})
    assert on_health.status_code == 404
    daemon.signal(signal.SIGTERM)
    assert daemon.wait() == 0, daemon.log_text()
