"""`run --dry-run` and `backfill --dry-run` against a real sandbox and real SQLite files:
nothing reaches the targets, the state DB and the drop folder stay as they were, and the
counts are the ones the real run that follows gets."""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from connector.cli import app
from connector.sync.dry_run import mask_payload, mask_phone_number
from sandbox.testing import SandboxAdmin
from state import RecordIssue, StagedEntry, StateStore
from state.db import create_state_engine
from state.schema import metadata
from state.snapshot import snapshot_state
from tests.shopify_fake import ShopifyFake, running_shopify
from tests.shopify_fake.server import RunningShopify
from tests.state_backends import state_url_fixture  # noqa: F401 - the fixture
from tests.support import (
    CUSTOMER_HEADER,
    ORDER_HEADER,
    SHOPIFY_TOKEN_ENV,
    STORE_HEADER,
    WS_DOWNTOWN,
    WS_EASTSIDE,
    WS_ONLINE,
    drop_file,
    phone,
    shopify_source,
    sticker_section,
)
from tests.sync.conftest import Harness

runner = CliRunner()
ORG = "test-dispensary"

CUSTOMERS = [
    ["C1", phone(1), "jane.roe@example.com", "Jane", "Roe", "Y", "", "kiosk", "", "001", ""],
    ["C2", phone(2), "max@example.org", "Max", "", "", "", "", "", "002", ""],
    ["C3", phone(3), "", "Ana", "", "", "", "", "", "", ""],
]
INVALID_CUSTOMERS = [
    ["C4", "888-888-8888", "", "", "", "", "", "", "", "001", ""],  # rejected: fake phone
    ["C5", "", "", "", "", "", "", "", "", "001", ""],  # skipped: no phone
]
ORDERS = [
    ["O1", "C1", "", "002", "", "12.50", "", ""],  # C1 also lives in the eastside workspace
    ["O2", "C2", "", "002", "", "20.00", "", ""],
    ["O3", "C3", "", "", "", "abc", "", ""],  # rejected: invalid amount
    ["O4", "C404", "", "001", "", "5.00", "", ""],  # quarantined: unknown customer
]
STORES = [["001", "Downtown", "12 Main St", "", "Oakland", "CA", "94607", "", "Y"]]


def _cli(*args: str) -> tuple[int, dict[str, Any]]:
    result = runner.invoke(app, list(args))
    assert result.exit_code in (0, 1), result.output
    return result.exit_code, json.loads(result.stdout)


def _dump_db(path: Path) -> str:
    with contextlib.closing(sqlite3.connect(path)) as conn:
        return "\n".join(conn.iterdump())


def _folder(root: Path) -> dict[str, bytes | None]:
    return {str(p.relative_to(root)): (p.read_bytes() if p.is_file() else None)
            for p in sorted(root.rglob("*"))}


def _sticky(targets: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
    return {k: v for k, v in targets.items() if not k.startswith("sticker/")}


def _requests(admin: SandboxAdmin) -> tuple[int, int]:
    stats = admin.stats()
    return stats["totals"]["requests"], stats["sticker"]["requests"]


def test_a_dry_run_sends_and_keeps_nothing_and_predicts_the_real_run(
        make_harness: Callable[..., Harness], admin: SandboxAdmin) -> None:
    h = make_harness(sticker=sticker_section(internal_org_id=ORG))
    config = str(h.root / "config.toml")
    drop_file(h.drop, "customers_1.csv", CUSTOMER_HEADER, CUSTOMERS + INVALID_CUSTOMERS)
    drop_file(h.drop, "orders_1.csv", ORDER_HEADER, ORDERS)
    drop_file(h.drop, "stores.csv", STORE_HEADER, STORES)
    drop_before = _folder(h.drop)
    state_db = h.root / "state.db"

    code, dry = _cli("run", "--config", config, "--dry-run", "--json")
    assert code == 1  # the real run quarantines O4 as well
    assert dry["dry_run"] is True
    assert _requests(admin) == (0, 0)
    assert not state_db.exists()  # not even created
    assert _folder(h.drop) == drop_before  # no processed/, no rejected/*.errors.csv
    targets = dry["total"]["targets"]
    assert targets[f"sticky/{WS_DOWNTOWN}"] == {"new": 1}
    assert targets[f"sticky/{WS_EASTSIDE}"]["new"] == 4  # C1, C2 and their orders
    assert targets[f"sticky/{WS_ONLINE}"] == {"new": 1}
    assert targets["sticky/-"] == {"rejected": 2, "skipped": 1, "quarantined": 1}
    assert targets[f"sticker/{ORG}"] == {"new": 1}
    assert dry["total"]["rejected"] == {"fake_phone": 1, "invalid_amount": 1}
    assert dry["requests"] == {WS_DOWNTOWN: 1, WS_EASTSIDE: 4, WS_ONLINE: 1, "sticker": 1}
    assert [o["status"] for o in dry["organizations"]] == ["created"]
    assert any("cannot know" in note for note in dry["notes"])
    # samples per (target, workspace, kind), masked
    samples = {(s["target"], s["workspace"], s["kind"]): s for s in dry["samples"]}
    [c1] = samples[("sticky", WS_DOWNTOWN, "customer")]["payloads"]
    assert (c1["phone"], c1["email"], c1["first_name"]) == ("+1***01", "j***@example.com",
                                                            "J.")
    assert c1["metadata"]["last_name"] == "R."
    assert samples[("sticky", WS_EASTSIDE, "order.completed")]["would_send"] == 2
    [setup] = samples[("sticker", ORG, "organization.setup")]["payloads"]
    assert setup["user"]["email"] == "d***@example.com"
    assert setup["user"]["phoneNumber"].endswith("01") and "555" not in setup["user"][
        "phoneNumber"]
    text = json.dumps(dry)
    for secret in ("jane.roe@example.com", "dana@example.com", "+14155550101", "Kendall"):
        assert secret not in text

    code, real = _cli("run", "--config", config, "--json")
    assert code == 1
    assert real["total"]["targets"] == targets  # Sticky workspaces and the Sticker org
    for key in ("records_read", "skipped", "rejected", "quarantined", "customers_created",
                "events_sent"):
        assert real["total"][key] == dry["total"][key], key
    assert [o["profiles_added"] for o in real["organizations"]] == [["owner"]]
    stats = admin.stats()
    assert {ws: s["accepted"] for ws, s in stats["workspaces"].items()} == {
        ws: n for ws, n in dry["requests"].items() if ws != "sticker"}
    assert stats["sticker"]["accepted"] == 1

    # One customer changes: the dry run says so, and leaves the state DB as it was.
    changed = [list(row) for row in CUSTOMERS]
    changed[1][2] = "max.new@example.org"
    drop_file(h.drop, "customers_2.csv", CUSTOMER_HEADER, changed)
    state_before, drop_before = _dump_db(state_db), _folder(h.drop)
    requests_before = _requests(admin)
    code, dry = _cli("run", "--config", config, "--dry-run", "--json")
    assert code == 1  # O4 is replayed after the read (its customer is still unknown)
    assert _requests(admin) == requests_before
    assert _dump_db(state_db) == state_before
    assert _folder(h.drop) == drop_before
    targets = dict(dry["total"]["targets"])
    assert targets.pop("sticky/-") == {"quarantined": 1}
    outcomes: Counter[str] = Counter()
    for counts in _sticky(targets).values():
        outcomes.update(counts)
    # C2 lives in the eastside workspace only; C1 in two, C3 in one
    assert outcomes == {"changed": 1, "unchanged": 3}
    assert dry["total"]["targets"][f"sticky/{WS_EASTSIDE}"] == {"changed": 1, "unchanged": 1}
    assert dry["total"]["targets"][f"sticker/{ORG}"] == {"unchanged": 1}
    assert dry["requests"] == {WS_EASTSIDE: 1}

    code, real = _cli("run", "--config", config, "--json")
    assert code == 1
    assert real["total"]["targets"] == dry["total"]["targets"]
    assert real["total"]["quarantined"] == dry["total"]["quarantined"] == {
        "unknown_customer": 1}




def test_the_snapshot_copies_every_table_and_leaves_leases_out(state_url: str,
                                                                tmp_path: Path) -> None:
    url = state_url
    store = StateStore.open(url)
    try:
        store.ledger.stage("t1", "sticky", [StagedEntry(
            WS_ONLINE, "customer", "C1", "pos", "h1", {"phone": "+14155550101"}, "k1")],
            None, {})
        store.cursors.put("t1", "pos", "file:abc", {"row": 3})
        store.leases.acquire("t1", "pos", "someone", 60.0)
        run_id = store.runs.start("t1", "pos", "manual")
        store.runs.finish(run_id, "ok", {"records_read": 1})
        store.commit_batch("t1", "pos", "file:def", {"row": 2}, [RecordIssue(
            stream="file:def", locator="c.csv:2", row=2, record_key="C9",
            disposition="rejected", reason="fake_phone", field="phone", message="m",
            raw={"phone": "x"}, record=None)], [], run_id)
    finally:
        store.close()
    snapshot = snapshot_state(url, exclude=("leases",))
    try:
        assert snapshot.source_revision is not None
        assert (snapshot.rows["ledger"], snapshot.rows["cursors"], snapshot.rows["runs"],
                snapshot.rows["record_issues"], "leases" in snapshot.rows) == (1, 2, 1, 1, False)
        copy, original = _rows(snapshot.url), _rows(url)
        assert copy.pop("leases") == [] and len(original.pop("leases")) == 1
        assert copy == original
    finally:
        snapshot.remove()
    assert not snapshot.path.exists()
    missing = snapshot_state(f"sqlite:///{tmp_path / 'none' / 'state.db'}")
    missing.remove()
    assert not (tmp_path / "none").exists()  # a state DB that does not exist is not created


def _rows(url: str) -> dict[str, list[tuple[Any, ...]]]:
    engine = create_state_engine(url)
    try:
        with engine.connect() as conn:
            return {t.name: [tuple(r) for r in conn.execute(
                select(t).order_by(*t.primary_key.columns))] for t in metadata.sorted_tables}
    finally:
        engine.dispose()


def test_masking_keeps_the_country_code_and_two_digits() -> None:
    assert mask_phone_number("+14155550142") == "+1***42"
    assert mask_phone_number("+447911123456") == "+44***56"
    assert mask_phone_number("(415) 555-0142") == "***42"
    masked = mask_payload({"phone": "+14155550142", "email": "Jane@x.org", "first_name":
                           "Jane", "consent": {"email": True}, "note": "call +14155550142",
                           "items": [{"sku": "SKU-123456789", "qty": 2}]})
    assert masked == {"phone": "+1***42", "email": "J***@x.org", "first_name": "J.",
                      "consent": {"email": True}, "note": "call ***42",
                      "items": [{"sku": "SKU-123456789", "qty": 2}]}


@pytest.fixture
def shop(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[ShopifyFake, RunningShopify]]:
    fake = ShopifyFake(now=datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1))
    fake.generate(orders=40, customers=12, seed=11, days=60)
    with running_shopify(fake) as running:
        monkeypatch.setenv(SHOPIFY_TOKEN_ENV, running.token)
        yield fake, running


def test_a_dry_backfill_sends_nothing_and_leaves_its_cursor(
        make_harness: Callable[..., Harness], admin: SandboxAdmin,
        shop: tuple[ShopifyFake, RunningShopify]) -> None:
    fake, running = shop
    h = make_harness(sources=shopify_source(running.base_url, backfill_window_days=90))
    config = str(h.root / "config.toml")
    since = (datetime.now(UTC) - timedelta(days=70)).date().isoformat()
    until = (datetime.now(UTC) + timedelta(days=1)).date().isoformat()
    h.store().close()  # the state DB exists (migrated, empty)
    state_before = _dump_db(h.root / "state.db")
    args = ("backfill", "--config", config, "--source", "shopify", "--since", since,
            "--until", until, "--json")
    code, dry = _cli(*args, "--dry-run")
    assert code in (0, 1)
    assert _requests(admin) == (0, 0)
    assert _dump_db(h.root / "state.db") == state_before  # no cursor, ledger row, run
    store = h.store()
    try:
        assert store.cursors.get("t1", "shopify", f"backfill:{since}:{until}") is None
    finally:
        store.close()
    assert sum(dry["requests"].values()) > 0
    assert len(fake.bulk_operations) == 1  # the source was read as a real backfill reads it

    code, real = _cli(*args)
    assert real["total"]["targets"] == dry["total"]["targets"]
    assert admin.stats()["totals"]["accepted"] == sum(dry["requests"].values())
