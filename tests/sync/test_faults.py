"""Delivery under failure: 5xx, 429 storms, dropped connections, an unreachable target,
refused credentials. Nothing may be lost and nothing sent twice."""

from __future__ import annotations

import socket
from collections import Counter
from collections.abc import Callable

from sandbox import SandboxConfig
from sandbox.testing import SandboxAdmin, sandbox_server
from tests.support import CUSTOMER_HEADER, ORDER_HEADER, TEST_KEY, WS_DOWNTOWN, drop_file, phone
from tests.sync.conftest import Harness

N_CUSTOMERS = 25
N_ORDERS = 60


def drop_sample(harness: Harness) -> None:
    drop_file(harness.drop, "customers_1.csv", CUSTOMER_HEADER, [
        [f"C{i}", phone(i), "", "", "", "", "", "", "", "001", ""]
        for i in range(N_CUSTOMERS)])
    drop_file(harness.drop, "orders_1.csv", ORDER_HEADER, [
        [f"O{i}", f"C{i % N_CUSTOMERS}", "", "001", "", f"{i + 1}.00", "", ""]
        for i in range(N_ORDERS)])


def assert_delivered_exactly_once(admin: SandboxAdmin) -> None:
    customers = admin.customers(WS_DOWNTOWN)
    events = admin.events(WS_DOWNTOWN)
    assert len(customers) == N_CUSTOMERS
    assert sorted(e["amount_cents"] for e in events) == [(i + 1) * 100 for i in range(N_ORDERS)]
    assert max(Counter(e["idempotency_key"] for e in events).values()) == 1


def test_server_errors_are_retried_and_nothing_is_lost(harness: Harness,
                                                       admin: SandboxAdmin) -> None:
    admin.set_faults(error_rate=0.3, seed=11)
    drop_sample(harness)
    report, traffic = harness.run()
    assert report.exit_code == 0
    assert traffic.by_workspace[WS_DOWNTOWN].server_errors > 10
    assert_delivered_exactly_once(admin)


def test_a_429_storm_is_waited_out(harness: Harness, admin: SandboxAdmin) -> None:
    admin.set_faults(storm_seconds=1.5)
    drop_sample(harness)
    report, traffic = harness.run()
    assert report.exit_code == 0
    assert traffic.by_workspace[WS_DOWNTOWN].rate_limited >= 1
    assert_delivered_exactly_once(admin)


def test_responses_lost_after_processing_are_replayed_not_duplicated(
        harness: Harness, admin: SandboxAdmin) -> None:
    admin.set_faults(drop_rate=0.25, drop_mode="after", seed=5)
    drop_sample(harness)
    report, traffic = harness.run()
    assert report.exit_code == 0
    assert traffic.by_workspace[WS_DOWNTOWN].network_errors > 5
    assert admin.workspace_stats(WS_DOWNTOWN)["idempotent_replays"] > 5
    assert_delivered_exactly_once(admin)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_unreachable_target_stops_the_run_and_the_next_run_resumes(
        make_harness: Callable[..., Harness], admin: SandboxAdmin) -> None:
    down = make_harness(f"http://127.0.0.1:{free_port()}",
                        sticky={"max_attempts": 2, "retry_budget_seconds": 5})
    drop_sample(down)
    report, _ = down.run()
    assert report.exit_code == 4
    assert "Sticky kept failing" in (report.outcomes[0].error or "")
    assert not (down.drop / "processed").exists()  # nothing checkpointed past the failure

    up = make_harness()  # same folder and state file, reachable sandbox
    report, _ = up.run()
    assert report.exit_code == 0
    assert_delivered_exactly_once(admin)


def test_refused_credentials_stop_the_run_with_a_clear_message(
        make_harness: Callable[..., Harness]) -> None:
    with sandbox_server(SandboxConfig(api_keys=frozenset({"sk_test_the_right_one"}))) as other:
        harness = make_harness(other.base_url)
        drop_sample(harness)
        report, _ = harness.run()
    assert report.exit_code == 4
    error = report.outcomes[0].error or ""
    assert "refused the credentials" in error
    assert TEST_KEY not in error
