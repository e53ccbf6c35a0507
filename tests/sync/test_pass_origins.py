"""Which customers are owed a wallet pass when Sticky answers as its document says
(``200 OK`` and a ``created_at``), against the sandbox over real HTTP."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from typer.testing import CliRunner

from connector.cli import app
from connector.sync.pass_rule import origins_line
from sandbox import RunningSandbox
from sandbox.testing import SandboxAdmin
from sandbox.testing import sticky_client as raw_sticky_client
from tests.support import CUSTOMER_HEADER, TEST_KEY, WS_ONLINE, drop_file, e164, phone
from tests.sync.conftest import Harness


def customers(n: int, start: int = 0) -> list[list[object]]:
    return [[f"c{i}", phone(i), f"c{i}@example.com", f"Name{i}", "", "", "", "", "", "",
             ""] for i in range(start, start + n)]


def passes_by_phone(admin: SandboxAdmin) -> dict[str, int]:
    phones = {c["id"]: c["phone"] for c in admin.customers(WS_ONLINE)}
    out: dict[str, int] = {}
    for p in admin.passes(WS_ONLINE):
        out[phones[p["customer_id"]]] = out.get(phones[p["customer_id"]], 0) + 1
    return out


@pytest.mark.parametrize("status", [200, 201])
def test_one_pass_per_customer_the_connector_created_none_for_one_already_there(
        status: int, make_harness: Callable[..., Harness], admin: SandboxAdmin,
        sandbox: RunningSandbox) -> None:
    admin.set_faults(created_status=status)
    with raw_sticky_client(sandbox, WS_ONLINE, TEST_KEY) as client:
        made = client.post("/v1/customers", json={"phone": e164(0)})
        made.raise_for_status()
        assert made.status_code == status
    time.sleep(1.1)  # created_at is to the second: this one is a second older than the run
    h = make_harness(passes={"mint_on_create": True, "clock_skew_seconds": 0})
    drop_file(h.drop, "customers_1.csv", CUSTOMER_HEADER, customers(4))
    report, _ = h.run()

    assert [p.minted for p in report.passes] == [3]
    assert passes_by_phone(admin) == {e164(1): 1, e164(2): 1, e164(3): 1}
    total = report.total
    assert total.customers_created == 4  # new to the connector...
    assert dict(total.customer_origins) == {"created": 3, "existed": 1}  # ...not to Sticky
    line = origins_line(total.customer_origins)
    assert line is not None and "3 created in Sticky by this connector, 1 already" in line
    assert total.notes == []  # existing customers getting no pass is the rule, not a problem

    report, _ = h.run()  # nothing new: nothing minted, nothing decided
    assert [p.minted for p in report.passes] == [0]
    assert sum(report.total.customer_origins.values()) == 0
    assert len(admin.passes(WS_ONLINE)) == 3


def test_mint_for_existing_gives_the_customer_already_there_a_pass_too(
        make_harness: Callable[..., Harness], admin: SandboxAdmin,
        sandbox: RunningSandbox) -> None:
    admin.set_faults(created_status=200)
    with raw_sticky_client(sandbox, WS_ONLINE, TEST_KEY) as client:
        client.post("/v1/customers", json={"phone": e164(0)}).raise_for_status()
    time.sleep(1.1)
    h = make_harness(passes={"mint_on_create": True, "clock_skew_seconds": 0,
                             "mint_for_existing": True})
    drop_file(h.drop, "customers_1.csv", CUSTOMER_HEADER, customers(2))
    report, _ = h.run()
    assert [p.minted for p in report.passes] == [2]
    assert passes_by_phone(admin) == {e164(0): 1, e164(1): 1}


@pytest.mark.parametrize("status", [200, 201])
def test_a_create_whose_answer_was_lost_gets_its_pass_from_the_deduplicated_retry(
        status: int, make_harness: Callable[..., Harness], admin: SandboxAdmin) -> None:
    """Sticky made the customer but the answer never arrived; the next run's retry is
    answered by the phone de-dupe (not an idempotency replay): ``200`` and the
    ``created_at`` of the first attempt, which the ledger knows it made."""
    admin.set_faults(created_status=status, ignore_idempotency=True, drop_rate=1.0,
                     drop_mode="after")
    h = make_harness(passes={"mint_on_create": True, "clock_skew_seconds": 0},
                     sticky={"max_attempts": 1, "retry_budget_seconds": 5})
    drop_file(h.drop, "customers_1.csv", CUSTOMER_HEADER, customers(1))
    report, _ = h.run()
    assert report.total.customers_created == 0
    assert len(admin.customers(WS_ONLINE)) == 1  # made, its answer lost
    assert admin.passes(WS_ONLINE) == []

    time.sleep(1.1)  # the retry is a second later than the first attempt
    admin.set_faults(drop_rate=0.0)
    report, _ = h.run()
    assert dict(report.total.customer_origins) == {"created": 1}
    assert [p.minted for p in report.passes] == [1]
    assert passes_by_phone(admin) == {e164(0): 1}
    assert len(admin.customers(WS_ONLINE)) == 1


def test_a_create_refused_earlier_counts_from_its_retry_not_from_its_first_refusal(
        make_harness: Callable[..., Harness], admin: SandboxAdmin,
        sandbox: RunningSandbox) -> None:
    """A refused create made nothing at Sticky: when it is retried later, a customer who
    signed up in Sticky meanwhile (after the refusal, before the retry) existed before
    this connector's create, and gets no pass."""
    admin.set_faults(refuse_phones=[e164(0)], created_status=200)
    h = make_harness(passes={"mint_on_create": True, "clock_skew_seconds": 0})
    drop_file(h.drop, "customers_1.csv", CUSTOMER_HEADER, customers(1))
    report, _ = h.run()
    assert report.total.quarantined == {"phone_refused": 1}
    time.sleep(1.1)
    admin.set_faults(refuse_phones=[])  # the cause is fixed; meanwhile they sign up
    with raw_sticky_client(sandbox, WS_ONLINE, TEST_KEY) as client:
        client.post("/v1/customers", json={"phone": e164(0)}).raise_for_status()
    time.sleep(1.1)
    retried = CliRunner().invoke(app, ["dlq", "retry", "--all", "--config",
                                       str(h.root / "config.toml")])
    assert retried.exit_code == 0, retried.output
    store = h.store()
    try:  # no pass wanted (the passes step would mint it on the next run)
        assert store.passes.all("t1") == []
    finally:
        store.close()
    h.run()
    assert admin.passes(WS_ONLINE) == []
