"""The command line over a real sandbox: exit codes, check, status, and logs that never
carry a phone number, an e-mail address or the API key in clear."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from typer.testing import CliRunner

from connector.cli import app
from connector.config import API_KEY_ENV
from sandbox import SandboxConfig
from sandbox.testing import sandbox_server
from tests.support import (
    CUSTOMER_HEADER,
    ORDER_HEADER,
    STORE_HEADER,
    TEST_KEY,
    drop_file,
    phone,
    sticker_section,
)
from tests.sync.conftest import Harness

runner = CliRunner()


def test_bad_config_exits_2_with_the_problem(tmp_path: Path) -> None:
    bad = tmp_path / "c.toml"
    bad.write_text("[sticky]\nrate_limit_per_second = -1\n", encoding="utf-8")
    result = runner.invoke(app, ["run", "--config", str(bad)])
    assert result.exit_code == 2
    assert "sticky.rate_limit_per_second" in result.output


def test_check_reports_each_workspace(harness: Harness) -> None:
    result = runner.invoke(app, ["check", "--config", str(harness.root / "config.toml")])
    assert result.exit_code == 0, result.output
    assert "ok   Sticky workspace ws_test_downtown" in result.output


def test_check_fails_on_a_refused_key_without_printing_it(make_harness: object) -> None:
    with sandbox_server(SandboxConfig(api_keys=frozenset({"sk_test_other"}))) as other:
        harness = make_harness(other.base_url)  # type: ignore[operator]
        result = runner.invoke(app, ["check", "--config", str(harness.root / "config.toml")])
    assert result.exit_code == 4
    assert "refused the credentials" in result.output
    assert TEST_KEY not in result.output


def test_run_then_status_as_json(harness: Harness) -> None:
    drop_file(harness.drop, "customers_1.csv", CUSTOMER_HEADER, [
        ["C1", phone(1), "", "", "", "", "", "", "", "001", ""]])
    drop_file(harness.drop, "orders_1.csv", ORDER_HEADER, [
        ["O1", "C404", "", "001", "", "5.00", "", ""]])  # quarantined: unknown customer
    config = str(harness.root / "config.toml")
    result = runner.invoke(app, ["run", "--config", config, "--json"])
    assert result.exit_code == 1, result.output
    summary = json.loads(result.stdout)
    assert summary["total"]["customers_created"] == 1
    assert summary["total"]["quarantined"] == {"unknown_customer": 1}
    status = json.loads(runner.invoke(app, ["status", "--config", config, "--json"]).stdout)
    [source] = status["tenants"][0]["sources"]
    assert source["open_issues"] == {"quarantined": 1}
    assert source["runs"][0]["outcome"] == "needs attention"
    assert source["lease"] is None
    assert source["quarantined_by_reason"] == {"unknown_customer": 1}
    assert source["pending"] == 0
    assert 0 <= source["lag_seconds"] < 120
    assert source["cursor"]["stream"].startswith("file:")
    table = runner.invoke(app, ["status", "--config", config])
    assert table.exit_code == 0
    assert "quarantined by reason: unknown_customer 1" in table.stdout


PII_PHONE = "(415) 555-0142"
PII_EMAIL = "Jane.Roe@Example.com"


def test_logs_never_carry_phones_emails_or_keys(harness: Harness, tmp_path: Path) -> None:
    drop_file(harness.drop, "customers_1.csv", CUSTOMER_HEADER, [
        ["C1", PII_PHONE, PII_EMAIL, "Jane", "Roe", "Y", "", "kiosk", "", "001", ""],
        ["C2", "888-888-8888", "not-an-email", "", "", "maybe", "", "", "", "001", ""],
        ["C3", "415-555-01", "a@b", "", "", "", "", "", "", "001", ""],
    ])
    drop_file(harness.drop, "orders_1.csv", ORDER_HEADER, [
        ["O1", "", "(415) 555-0177", "002", "", "abc", "", ""],
        ["O2", "C1", "", "002", "", "5.00", "", ""]])
    config = harness.root / "config.toml"
    config.write_text('log_level = "debug"\nlog_format = "json"\n'
                      + config.read_text(encoding="utf-8"), encoding="utf-8")
    env = {**os.environ, API_KEY_ENV: TEST_KEY}
    proc = subprocess.run([sys.executable, "-m", "connector", "run", "--config", str(config)],
                          check=False, env=env, capture_output=True, text=True,
                          timeout=120)
    logs = proc.stderr
    assert proc.returncode in (0, 1), logs[-2000:]
    # real logs were captured, including the per-record problems (which name the field)
    assert '"level": "debug"' in logs and "fake_phone" in logs and "invalid_amount" in logs
    digits = re.sub(r"\D", "", PII_PHONE)
    for secret in (TEST_KEY, PII_EMAIL, PII_EMAIL.lower(), digits, "+1" + digits,
                   "4155550177", "8888888888"):
        assert secret not in logs
        assert secret not in proc.stdout


def test_run_and_status_show_the_organization_and_what_needs_attention(
        make_harness: Callable[..., Harness]) -> None:
    harness = make_harness(sticker=sticker_section())
    config = str(harness.root / "config.toml")
    drop_file(harness.drop, "stores.csv", STORE_HEADER, [
        ["001", "Downtown", "12 Main St", "", "Oakland", "CA", "94607", "", ""]])
    first = runner.invoke(app, ["run", "--config", config])
    assert first.exit_code == 0, first.output
    assert "Sticker organizations" in first.output and "created" in first.output
    drop_file(harness.drop, "stores_2.csv", STORE_HEADER, [
        ["002", "Uptown", "9 Broadway", "", "Oakland", "CA", "94612", "", ""]])
    second = runner.invoke(app, ["run", "--config", config, "--json"])
    assert second.exit_code == 1, second.output  # a store Sticker cannot be told of
    [org] = json.loads(second.stdout)["organizations"]
    assert (org["status"], org["locations_known"], org["locations_confirmed"]) == (
        "up_to_date", 2, 1)
    status = runner.invoke(app, ["status", "--config", config])
    assert "Sticker organization t1: set up as" in status.output
    assert "needs attention (sticker location_missing 002" in status.output


def test_check_reports_webhook_subscriptions_and_their_secrets(
        make_harness: Callable[..., Harness]) -> None:
    harness = make_harness(webhooks={
        "url": "http://127.0.0.1:9/webhooks/sticky/{workspace}",
        "secrets_file": "./hooks.json"})
    config = str(harness.root / "config.toml")
    result = runner.invoke(app, ["check", "--config", config])
    assert result.exit_code == 4
    assert "webhooks ws_test_online: not subscribed as configured" in result.output
    result = runner.invoke(app, ["webhooks", "subscribe", "--config", config])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["check", "--config", config])
    assert result.exit_code == 0, result.output
    assert "ok   webhooks ws_test_online: subscribed" in result.output
    secrets = json.loads((harness.root / "hooks.json").read_text())
    for secret in secrets.values():
        assert secret not in result.output
    # a secret from elsewhere that is not the subscription's: deliveries would be refused
    secrets["ws_test_online"] = "whsec_not_that_one"
    (harness.root / "hooks.json").write_text(json.dumps(secrets))
    result = runner.invoke(app, ["check", "--config", config])
    assert result.exit_code == 4
    assert "not the one this subscription was made with" in result.output
