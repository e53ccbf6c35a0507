"""Wallet passes against the sandbox over real HTTP: minted once per created customer
across reruns and restarts, exported, re-minted only when a link expired unused."""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from connector.cli import app
from connector.commands.passes import export_rows, mint_command, plan_mints
from connector.errors import ConfigurationError
from connector.sync.orchestrator import run_passes_step, sticky_client
from connector.sync.passes import PassMinter
from sandbox.testing import SandboxAdmin
from state.passes import PassStatus
from state.schema import passes as passes_table
from tests.support import (
    CUSTOMER_HEADER,
    WS_ONLINE,
    drop_file,
    e164,
    phone,
    settings_for,
    write_config,
)
from tests.sync.conftest import Harness

PASSES_ON: dict[str, object] = {"mint_on_create": True}


def customers(n: int, start: int = 0) -> list[list[object]]:
    return [[f"c{i}", phone(i), f"c{i}@example.com", f"Name{i}", "", "", "", "", "", "",
             ""] for i in range(start, start + n)]


def passes_by_customer(admin: SandboxAdmin) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for p in admin.passes(WS_ONLINE):
        out.setdefault(p["customer_id"], []).append(p["id"])
    return out


def test_a_pass_is_minted_once_per_created_customer_across_reruns_and_restarts(
        make_harness: Callable[..., Harness], admin: SandboxAdmin) -> None:
    h = make_harness(passes=PASSES_ON)
    drop_file(h.drop, "customers_1.csv", CUSTOMER_HEADER, customers(3))
    report, _ = h.run()
    assert [p.minted for p in report.passes] == [3]
    minted = passes_by_customer(admin)
    assert len(minted) == 3 and all(len(ids) == 1 for ids in minted.values())

    report, _ = h.run()  # nothing new: nothing minted
    assert [p.minted for p in report.passes] == [0]
    # a restart (new process: new store, new clients) with the same customers again
    # (changed names) and one new customer
    rows = customers(3)
    for row in rows:
        row[3] = f"Renamed{row[0]}"
    drop_file(h.drop, "customers_2.csv", CUSTOMER_HEADER, rows + customers(1, start=3))
    report, _ = h.run()
    assert [p.minted for p in report.passes] == [1]
    after = passes_by_customer(admin)
    assert len(after) == 4 and all(len(ids) == 1 for ids in after.values())
    assert {k: v for k, v in after.items() if k in minted} == minted

    store = h.store()
    try:
        recorded = store.passes.all("t1")
    finally:
        store.close()
    sandbox_passes = {p["id"]: p for p in admin.passes(WS_ONLINE)}
    assert len(recorded) == 4
    for record in recorded:
        assert record.status == "minted"
        assert record.pass_id in sandbox_passes
        assert record.install_url == sandbox_passes[record.pass_id]["install_url"]
        assert record.expires_at is not None and record.expires_at > datetime.now(UTC)


def test_a_mint_whose_answer_was_lost_gets_the_same_pass_back(
        make_harness: Callable[..., Harness], admin: SandboxAdmin) -> None:
    """A crash after Sticky minted but before we recorded it: the row is still wanted;
    the retry carries the same Idempotency-Key and Sticky answers with the same pass."""
    h = make_harness(passes=PASSES_ON)
    drop_file(h.drop, "customers_1.csv", CUSTOMER_HEADER, customers(1))
    h.run()
    store = h.store()
    try:
        (record,) = store.passes.all("t1")
        # put the row back as it was before the answer was recorded
        with store.engine.begin() as conn:
            conn.execute(passes_table.update().values(status=PassStatus.WANTED, pass_id=None))

        async def again() -> None:
            async with sticky_client(h.settings) as sticky:
                await run_passes_step(h.settings.tenants[0], store, sticky, "test-holder",
                                      "manual", h.settings)
        asyncio.run(again())
        (after,) = store.passes.all("t1")
    finally:
        store.close()
    assert after.pass_id == record.pass_id
    assert len(admin.passes(WS_ONLINE)) == 1


def test_no_pass_without_the_tenant_opting_in(harness: Harness, admin: SandboxAdmin) -> None:
    drop_file(harness.drop, "customers_1.csv", CUSTOMER_HEADER, customers(2))
    report, _ = harness.run()
    assert report.passes == []
    assert admin.passes() == []


def test_on_demand_mint_then_never_twice_and_remint_only_when_expired_unused(
        make_harness: Callable[..., Harness], admin: SandboxAdmin) -> None:
    h = make_harness(passes={"mint_on_create": False})
    drop_file(h.drop, "customers_1.csv", CUSTOMER_HEADER, customers(2))
    report, _ = h.run()
    assert [p.minted for p in report.passes] == [0]
    decisions, outcome = asyncio.run(mint_command(h.settings, tenant_id=None,
                                                  customers=["pos:c0"], remint=False))
    assert [d.action for d in decisions] == ["queued"] and outcome.minted == 1
    decisions, outcome = asyncio.run(mint_command(h.settings, tenant_id=None,
                                                  customers=["pos:c0"], remint=True))
    assert [d.action for d in decisions] == ["has_valid_pass"] and outcome.minted == 0
    assert len(admin.passes(WS_ONLINE)) == 1

    store = h.store()
    try:
        later = datetime.now(UTC) + timedelta(hours=25)
        # expired unused, but no pass.installed subscription: an install would be unseen
        with pytest.raises(Exception, match="cannot be told from an installed"):
            plan_mints(store, h.settings.tenants[0], ["pos:c0"], remint=True,
                       installs_reported=False, now=later)
        decisions = plan_mints(store, h.settings.tenants[0], ["pos:c0"], remint=False,
                               installs_reported=True, now=later)
        assert [d.action for d in decisions] == ["expired_unused"]
        decisions = plan_mints(store, h.settings.tenants[0], ["pos:c0"], remint=True,
                               installs_reported=True, now=later)
        assert [d.action for d in decisions] == ["reminted"]
        (record,) = store.passes.wanted("t1")
        assert record.generation == 1
    finally:
        store.close()


def test_export_lists_the_valid_links_with_consent_flags(
        make_harness: Callable[..., Harness], admin: SandboxAdmin) -> None:
    h = make_harness(passes=PASSES_ON)
    rows = customers(2)
    rows[0][5] = "yes"  # sms_opt_in
    rows[0][7] = "kiosk"  # opt_in_source
    rows[0][8] = "2026-10-01T10:00:00Z"
    drop_file(h.drop, "customers_1.csv", CUSTOMER_HEADER, rows)
    h.run()
    result = CliRunner().invoke(app, ["passes", "export", "--config",
                                      str(h.root / "config.toml")])
    assert result.exit_code == 0, result.output
    exported = list(csv.DictReader(io.StringIO(result.stdout)))
    sandbox_passes = {p["id"]: p for p in admin.passes(WS_ONLINE)}
    assert len(exported) == 2
    for row in exported:
        minted = sandbox_passes[row["pass_id"]]
        assert row["install_url"] == minted["install_url"]
        assert row["install_url"].startswith("https://")
        assert row["sticky_customer_id"] == minted["customer_id"]
        assert row["status"] == "valid"
    by_key = {r["customer_key"]: r for r in exported}
    assert by_key["pos:c0"]["sms_consent"] == "true"
    assert by_key["pos:c1"]["sms_consent"] == ""  # never inferred
    assert by_key["pos:c0"]["phone"] == e164(0)

    status = CliRunner().invoke(app, ["status", "--config", str(h.root / "config.toml")])
    assert status.exit_code == 0, status.output
    assert "wallet passes: valid 2;" in " ".join(status.output.split())

    out = h.root / "links.csv"
    result = CliRunner().invoke(app, ["passes", "export", "--config",
                                      str(h.root / "config.toml"), "--out", str(out)])
    assert result.exit_code == 0
    assert out.stat().st_mode & 0o777 == 0o600

    store = h.store()
    try:
        later = datetime.now(UTC) + timedelta(hours=25)
        assert export_rows(store, h.settings, tenant_id=None, include_all=False,
                           now=later) == []
        every = export_rows(store, h.settings, tenant_id=None, include_all=True, now=later)
        assert {r["status"] for r in every} == {"expired"}
    finally:
        store.close()


def test_automatic_reminting_replaces_only_expired_unused_links_up_to_the_limit(
        make_harness: Callable[..., Harness], admin: SandboxAdmin) -> None:
    h = make_harness(passes={"mint_on_create": True, "remint_expired": True,
                             "max_remints": 1})
    drop_file(h.drop, "customers_1.csv", CUSTOMER_HEADER, customers(2))
    h.run()
    store = h.store()
    try:
        first = {r.customer_id: r for r in store.passes.all("t1")}
        installed_id, unused_id = sorted(first)
        with store.engine.begin() as conn:  # Sticky reported one install
            store.passes.mark_installed(WS_ONLINE, installed_id,
                                        str(first[installed_id].pass_id),
                                        datetime.now(UTC), "apple", conn)

        async def step(now: datetime) -> int:
            async with sticky_client(h.settings) as sticky:
                outcome = await PassMinter(h.settings.tenants[0], store, sticky).run(now)
            return outcome.reminted

        later = datetime.now(UTC) + timedelta(hours=25)
        assert asyncio.run(step(later)) == 1
        assert asyncio.run(step(later + timedelta(hours=25))) == 0  # max_remints = 1
        after = {r.customer_id: r for r in store.passes.all("t1")}
    finally:
        store.close()
    assert after[installed_id].pass_id == first[installed_id].pass_id
    assert after[installed_id].status == "installed"
    assert after[unused_id].generation == 1
    assert after[unused_id].pass_id != first[unused_id].pass_id
    assert passes_by_customer(admin)[unused_id] == [first[unused_id].pass_id,
                                                    after[unused_id].pass_id]
    assert passes_by_customer(admin)[installed_id] == [first[installed_id].pass_id]


def test_reminting_without_install_reports_is_refused_at_config_load(tmp_path: Path) -> None:
    path = write_config(tmp_path, "http://127.0.0.1:9", passes={"remint_expired": True},
                        webhooks={"events": ["customer.tier_changed"]})
    with pytest.raises(ConfigurationError, match=r"pass\.installed"):
        settings_for(path)
