"""`run --once` honours each source's schedule: what is due runs, the rest waits."""

from __future__ import annotations

import json
from datetime import timedelta

from typer.testing import CliRunner

from connector.cli import app
from connector.config import TenantSettings
from connector.sync.due import is_due
from sandbox.testing import SandboxAdmin
from tests.support import CUSTOMER_HEADER, WS_DOWNTOWN, drop_file, phone, settings_for
from tests.sync.conftest import Harness

runner = CliRunner()


def _tenant_with(harness: Harness, schedule: str) -> TenantSettings:
    config = harness.root / "config.toml"
    text = config.read_text(encoding="utf-8").replace(
        'kind = "csv"\n', f'kind = "csv"\nschedule = "{schedule}"\n')
    config.write_text(text, encoding="utf-8")
    return settings_for(config).tenants[0]


def test_an_interval_is_due_once_it_elapsed_give_or_take_a_tenth(harness: Harness) -> None:
    tenant = _tenant_with(harness, "every 5m")
    source = tenant.sources[0]
    store = harness.store()
    try:
        assert is_due(store, tenant, source)  # never ran
        store.runs.start("t1", source.name, "cron")
        started = store.runs.recent("t1", source.name)[0].started_at
        assert not is_due(store, tenant, source, started + timedelta(minutes=2))
        assert not is_due(store, tenant, source, started + timedelta(minutes=4, seconds=20))
        assert is_due(store, tenant, source, started + timedelta(minutes=4, seconds=45))
        store.runs.start("t1", source.name, "backfill")  # a backfill is not a sync slot
        assert is_due(store, tenant, source, started + timedelta(minutes=5))
    finally:
        store.close()


def test_a_cron_schedule_is_due_when_it_fired_since_the_last_run(harness: Harness) -> None:
    tenant = _tenant_with(harness, "0 * * * *")  # hourly, on the hour
    source = tenant.sources[0]
    store = harness.store()
    try:
        store.runs.start("t1", source.name, "cron")
        started = store.runs.recent("t1", source.name)[0].started_at
        next_hour = started.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
        assert not is_due(store, tenant, source, next_hour - timedelta(minutes=5))
        assert is_due(store, tenant, source, next_hour - timedelta(seconds=30))
        assert is_due(store, tenant, source, next_hour + timedelta(minutes=1))
    finally:
        store.close()


def test_run_once_skips_a_source_that_is_not_due(harness: Harness,
                                                  admin: SandboxAdmin) -> None:
    _tenant_with(harness, "every 1h")
    config = str(harness.root / "config.toml")
    drop_file(harness.drop, "customers_1.csv", CUSTOMER_HEADER, [
        ["C1", phone(1), "", "", "", "", "", "", "", "001", ""]])
    first = runner.invoke(app, ["run", "--once", "--json", "--config", config])
    assert first.exit_code == 0, first.output
    assert json.loads(first.stdout)["sources"][0]["status"] == "ok"
    drop_file(harness.drop, "customers_2.csv", CUSTOMER_HEADER, [
        ["C2", phone(2), "", "", "", "", "", "", "", "001", ""]])
    second = runner.invoke(app, ["run", "--once", "--json", "--config", config])
    assert second.exit_code == 0
    assert json.loads(second.stdout)["sources"][0]["status"] == "not due"
    assert len(admin.customers(WS_DOWNTOWN)) == 1
    manual = runner.invoke(app, ["run", "--config", config])  # without --once: runs now
    assert manual.exit_code == 0
    assert len(admin.customers(WS_DOWNTOWN)) == 2
