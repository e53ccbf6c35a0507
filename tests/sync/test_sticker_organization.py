"""The Sticker organization step against the sandbox over real HTTP."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from connector.commands.status import collect_status
from connector.config import STICKER_KEY_ENV
from connector.outcomes import ExitCode
from connector.sync.organizations import KIND, LOCATION_MISSING, SETUP_REJECTED, TARGET
from sandbox.testing import SandboxAdmin
from state import StoredLocation
from tests.support import (
    MANAGER,
    OWNER,
    STORE_HEADER,
    drop_file,
    settings_for,
    sticker_section,
)
from tests.sync.conftest import Harness

STORES = [
    ["001", "Downtown", "12 Main St", "Suite 4", "Oakland", "Calif.", "94607", "", "Y"],
    ["002", "Eastside", "400 E 14th St", "", "San Leandro", "ca", "94577.0", "", ""],
]
THIRD = ["003", "Uptown", "9 Broadway", "", "Oakland", "California", "94612", "", ""]


def _org(admin: SandboxAdmin) -> dict[str, Any]:
    orgs = admin.organizations()
    assert len(orgs) == 1, orgs
    return orgs[0]


def _make(make_harness: Callable[..., Harness],
          users: Sequence[Mapping[str, object]] = (OWNER,),
          **fields: object) -> Harness:
    return make_harness(sticker=sticker_section(users, **fields))


def _drop_stores(h: Harness, rows: list[list[str]], name: str = "stores.csv") -> None:
    drop_file(h.drop, name, STORE_HEADER, rows)


def test_a_new_organization_is_created_with_every_store(
        make_harness: Callable[..., Harness], admin: SandboxAdmin) -> None:
    h = _make(make_harness, internal_org_id="kendalls-oak", default_location="002")
    _drop_stores(h, STORES)
    report, _ = h.run()
    assert report.exit_code is ExitCode.OK
    [outcome] = report.organizations
    assert (outcome.status, outcome.profiles_added, outcome.locations_confirmed) == (
        "created", ["owner"], 2)
    org = _org(admin)
    assert org["internalOrgId"] == "kendalls-oak" and org["name"] == "Test Dispensary"
    by_id = {loc["internalShippingLocationId"]: loc for loc in org["shippingLocations"]}
    assert by_id["001"]["address"] == {
        "line1": "12 Main St", "line2": "Suite 4", "city": "Oakland",
        "province": "California", "postalCode": "94607", "country": "United States"}
    assert by_id["002"]["address"]["postalCode"] == "94577"
    # The configured default wins over the file's is_default flag; only one default.
    assert [k for k, v in by_id.items() if v["isDefault"]] == ["002"]
    assert org["billingAddress"]["province"] == "California"
    [profile] = org["profiles"]
    assert profile["internal_user_id"] == "owner" and profile["phone_number"] == "+14155550101"
    assert all(not r["ignoredFields"] for r in admin.sticker_requests())
    store = h.store()
    try:
        entry = store.ledger.find("t1", TARGET, KIND, "owner")
        assert entry is not None and entry.status == "sent"
        assert entry.remote_id == profile["id"]
        saved = store.organizations.get("t1")
        assert saved is not None and saved.organization_id == org["id"]
        assert saved.stripe_customer_id == org["stripeCustomerId"]
    finally:
        store.close()


def test_a_rerun_with_nothing_changed_sends_nothing(
        make_harness: Callable[..., Harness], admin: SandboxAdmin) -> None:
    h = _make(make_harness)
    _drop_stores(h, STORES)
    h.run()
    sent = len(admin.sticker_requests())
    report, _ = h.run()
    assert len(admin.sticker_requests()) == sent == 1
    [outcome] = report.organizations
    assert (outcome.status, outcome.requests, outcome.attention) == ("up_to_date", 0, [])


def test_a_second_user_joins_the_existing_organization(
        make_harness: Callable[..., Harness], admin: SandboxAdmin, tmp_path: Path) -> None:
    h = _make(make_harness)
    _drop_stores(h, STORES)
    h.run()
    h2 = _make(make_harness, users=(OWNER, MANAGER))
    report, _ = h2.run()
    [outcome] = report.organizations
    assert (outcome.status, outcome.profiles_added, outcome.requests) == (
        "joined", ["manager"], 1)
    org = _org(admin)
    assert sorted(p["internal_user_id"] for p in org["profiles"]) == ["manager", "owner"]
    assert len(org["shippingLocations"]) == 2
    assert outcome.locations_confirmed == 2 and outcome.attention == []


def test_a_409_on_a_rerun_without_state_is_treated_as_done(
        make_harness: Callable[..., Harness], admin: SandboxAdmin, tmp_path: Path) -> None:
    h = _make(make_harness)
    _drop_stores(h, STORES)
    h.run()
    (tmp_path / "state.db").unlink()
    for leftover in tmp_path.glob("state.db-*"):
        leftover.unlink()
    shutil.move(str(h.drop / "processed" / "stores.csv"), str(h.drop / "stores.csv"))
    report, _ = h.run()
    assert report.exit_code is ExitCode.OK
    [outcome] = report.organizations
    assert outcome.profiles_existing == ["owner"] and outcome.profiles_added == []
    assert outcome.locations_confirmed is None  # a 409 does not list locations
    assert [r["status"] for r in admin.sticker_requests()] == [200, 409]
    profile_id = _org(admin)["profiles"][0]["id"]
    store = h.store()
    try:
        entry = store.ledger.find("t1", TARGET, KIND, "owner")
        assert entry is not None and (entry.status, entry.remote_id) == ("sent", profile_id)
    finally:
        store.close()
    h.run()
    assert len(admin.sticker_requests()) == 2  # settled: not sent a third time


def test_a_store_opened_after_setup_needs_attention(
        make_harness: Callable[..., Harness], admin: SandboxAdmin) -> None:
    h = _make(make_harness)
    _drop_stores(h, STORES)
    h.run()
    _drop_stores(h, [THIRD], name="stores_2026-11-20.csv")
    report, _ = h.run()
    assert report.exit_code is ExitCode.NEEDS_ATTENTION  # a person must add the store
    [outcome] = report.organizations
    assert outcome.requests == 0  # the endpoint cannot add it: no blind retries
    assert len(outcome.attention) == 1 and outcome.attention[0].startswith(
        f"{LOCATION_MISSING} 003")
    status = collect_status(h.settings)["tenants"][0]
    assert [(i["kind"], i["key"]) for i in status["needs_attention"]] == [
        (LOCATION_MISSING, "003")]
    assert status["organization"]["stores_known"] == 3
    assert status["organization"]["stores_confirmed"] == 2
    # A user added later gets Sticker's full list back: still without the new store.
    report, _ = _make(make_harness, users=(OWNER, MANAGER)).run()
    [outcome] = report.organizations
    assert outcome.profiles_added == ["manager"] and len(outcome.attention) == 1
    assert len(_org(admin)["shippingLocations"]) == 2


def test_waits_for_stores_before_creating_the_organization(
        make_harness: Callable[..., Harness], admin: SandboxAdmin) -> None:
    h = _make(make_harness)
    report, _ = h.run()
    [outcome] = report.organizations
    assert outcome.status == "waiting" and outcome.requests == 0
    assert admin.organizations() == []
    _drop_stores(h, STORES)
    report, _ = h.run()
    assert report.organizations[0].status == "created"


def test_a_bad_store_row_is_rejected_naming_the_field_and_the_rest_set_up(
        make_harness: Callable[..., Harness], admin: SandboxAdmin) -> None:
    h = _make(make_harness)
    _drop_stores(h, [*STORES, ["004", "Island", "1 Ocean Dr", "", "San Juan", "PR",
                               "00901", "", ""],
                     ["005", "", "2 Elm St", "", "Oakland", "CA", "94601", "", ""]])
    report, _ = h.run()
    assert dict(report.total.rejected) == {"unsupported_state": 1, "missing_name": 1}
    assert report.total.locations_recorded == 2
    assert len(_org(admin)["shippingLocations"]) == 2
    errors = (h.drop / "rejected" / "stores.csv.errors.csv").read_text(encoding="utf-8")
    assert "state" in errors and "Puerto Rico" in errors and "name" in errors


def test_validation_errors_are_rejected_with_the_api_field_paths(
        make_harness: Callable[..., Harness], admin: SandboxAdmin) -> None:
    h = _make(make_harness)
    store = h.store()
    try:  # a stored store the API refuses (e.g. written by an older version)
        bad: dict[str, Any] = {"internalShippingLocationId": "009", "name": "Nowhere",
               "address": {"line1": "1 Nowhere Rd", "city": "Nowhere",
                           "province": "Narnia", "postalCode": "00000"}}
        store.locations.save("t1", [StoredLocation("009", "pos", "test", bad, "x")])
    finally:
        store.close()
    report, _ = h.run()
    assert report.exit_code is ExitCode.RECORDS_FAILED
    [outcome] = report.organizations
    assert outcome.status == "rejected" and outcome.rejected == ["owner"]
    assert admin.organizations() == []
    store = h.store()
    try:
        entry = store.ledger.find("t1", TARGET, KIND, "owner")
        assert entry is not None and entry.status == "rejected"
        assert "shippingLocations[0].address.province" in (entry.last_error or "")
        [item] = store.attention.open_items("t1")
        assert item.kind == SETUP_REJECTED and "shippingLocations[0].address.province" in (
            item.message)
    finally:
        store.close()
    h.run()  # same content: not sent again
    assert len(admin.sticker_requests()) == 1
    store = h.store()
    try:  # fixed at the source: a new content hash is sent, and the item resolves
        fixed = {**bad, "address": {**bad["address"], "province": "Oregon",
                                    "postalCode": "97001"}}
        store.locations.save("t1", [StoredLocation("009", "pos", "test", fixed, "y")])
    finally:
        store.close()
    report, _ = h.run()
    assert report.organizations[0].status == "created"
    store = h.store()
    try:
        assert store.attention.open_items("t1") == []
    finally:
        store.close()


@pytest.mark.parametrize("mode", ["before", "after"])
def test_a_retried_setup_error_ends_in_exactly_one_organization(
        make_harness: Callable[..., Harness], admin: SandboxAdmin, mode: str) -> None:
    h = _make(make_harness)
    _drop_stores(h, STORES)
    admin.set_faults(setup_error_next=2, setup_error_mode=mode)
    report, _ = h.run()
    assert report.exit_code is ExitCode.OK
    org = _org(admin)
    assert len(org["profiles"]) == 1
    statuses = [r["status"] for r in admin.sticker_requests()]
    assert statuses[:2] == [500, 500] and len(statuses) == 3
    [outcome] = report.organizations
    if mode == "before":  # nothing happened until the third try: a plain 200
        assert statuses[2] == 200 and outcome.profiles_added == ["owner"]
    else:  # the first try was processed: the retry finds the user
        assert statuses[2] == 409 and outcome.profiles_existing == ["owner"]


def test_sticker_down_aborts_the_step_and_the_next_run_finishes_it(
        make_harness: Callable[..., Harness], admin: SandboxAdmin) -> None:
    h = make_harness(sticker=sticker_section(), sticker_api={"max_attempts": 2})
    _drop_stores(h, STORES)
    admin.set_faults(setup_error_rate=1.0)
    report, _ = h.run()
    assert report.exit_code is ExitCode.TARGET_UNREACHABLE
    [outcome] = report.organizations
    assert outcome.status == "aborted" and "SETUP_ERROR" in (outcome.error or "")
    store = h.store()
    try:
        entry = store.ledger.find("t1", TARGET, KIND, "owner")
        assert entry is not None and entry.status == "pending"
    finally:
        store.close()
    admin.set_faults(setup_error_rate=0.0)
    report, _ = h.run()
    assert report.exit_code is ExitCode.OK and report.organizations[0].status == "created"
    assert len(admin.organizations()) == 1


def test_a_refused_key_aborts_with_exit_code_4(
        make_harness: Callable[..., Harness], admin: SandboxAdmin,
        monkeypatch: pytest.MonkeyPatch) -> None:
    h = _make(make_harness)
    monkeypatch.setenv(STICKER_KEY_ENV, "not-a-key")
    h.settings = settings_for(h.root / "config.toml")
    _drop_stores(h, STORES)
    report, _ = h.run()
    assert report.exit_code is ExitCode.TARGET_UNREACHABLE
    assert "credentials" in (report.organizations[0].error or "")
    assert admin.organizations() == []
