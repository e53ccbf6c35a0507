"""Backfill progress: an ETA bounded by the rate cap, a rich bar on a terminal, and log
lines (records, rates) when the output is not a terminal."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
from rich.console import Console
from structlog.testing import capture_logs

from connector.config import API_KEY_ENV
from connector.delivery.traffic import Traffic
from connector.progress import BackfillProgress, estimate_eta, format_eta
from connector.sync.summary import RunSummary
from tests.shopify_fake import ShopifyFake, running_shopify
from tests.shopify_fake.server import RunningShopify
from tests.support import SHOPIFY_TOKEN_ENV, TEST_KEY, WS_DOWNTOWN, WS_ONLINE, shopify_source
from tests.sync.conftest import Harness


def test_the_eta_is_the_larger_of_the_read_rate_and_the_rate_cap() -> None:
    # 1,000 of 10,000 records in 10 s: 90 s more at the read rate...
    by_reading = estimate_eta(records=1000, total=10_000, elapsed=10.0, requests=500,
                              rate_limit_per_second=100, workspaces=2)
    assert by_reading == pytest.approx(90.0)
    # ...but 2 requests a record, 18,000 more requests at 100/s in 1 workspace: 180 s
    by_cap = estimate_eta(records=1000, total=10_000, elapsed=10.0, requests=2000,
                          rate_limit_per_second=100, workspaces=1)
    assert by_cap == pytest.approx(180.0)
    # two workspaces send in parallel, each at the cap
    assert estimate_eta(records=1000, total=10_000, elapsed=10.0, requests=2000,
                        rate_limit_per_second=100, workspaces=2) == pytest.approx(90.0)
    assert estimate_eta(records=1000, total=None, elapsed=10.0, requests=2000,
                        rate_limit_per_second=100, workspaces=2) is None
    assert estimate_eta(records=0, total=100, elapsed=1.0, requests=0,
                        rate_limit_per_second=100, workspaces=0) is None
    assert format_eta(3725) == "ETA 1:02:05" and format_eta(65) == "ETA 1:05"


def _traffic(**requests: int) -> Traffic:
    traffic = Traffic()
    for workspace, n in requests.items():
        for _ in range(n):
            traffic.request_sent(workspace, 0.0)
    return traffic


def test_without_a_terminal_progress_is_logged_every_n_batches_and_at_the_end() -> None:
    now = [0.0]
    progress = BackfillProgress(rate_limit_per_second=100, console=Console(file=io.StringIO()),
                                interactive=False, clock=lambda: now[0],
                                log_every_seconds=60.0, log_every_batches=2)
    summary = RunSummary()
    with capture_logs() as logs, progress:
        for batch in range(1, 6):
            now[0] = batch * 1.0
            summary.records_read = batch * 10
            progress(summary, _traffic(**{WS_ONLINE: batch * 3}))
    lines = [e for e in logs if e["event"] == "backfill progress"]
    # the first batch, then every 2 batches, then the end
    assert [e["records"] for e in lines] == [10, 30, 50, 50]
    assert lines[1]["records_per_second"] == 10.0 and lines[1]["requests"] == 9
    assert lines[-1]["done"] is True and "eta_seconds" not in lines[-1]


def test_on_a_terminal_a_bar_shows_counts_rates_and_the_eta() -> None:
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=160)
    now = [0.0]
    progress = BackfillProgress(rate_limit_per_second=10, console=console, total=1000,
                                clock=lambda: now[0], description="backfill shopify")
    assert progress.interactive
    summary = RunSummary(records_read=100)
    with progress:
        now[0] = 10.0
        progress(summary, _traffic(**{WS_ONLINE: 100, WS_DOWNTOWN: 100}))
    text = out.getvalue()
    assert "backfill shopify" in text and "100/1,000 records" in text
    assert "200 requests" in text
    # 1,800 more requests at 10/s in each of 2 workspaces: 90 s (reading alone: 90 s too)
    assert progress.state.eta_seconds == pytest.approx(90.0) and "ETA 1:30" in text


@pytest.fixture
def shop(monkeypatch: pytest.MonkeyPatch) -> Iterator[RunningShopify]:
    fake = ShopifyFake(now=datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1))
    fake.generate(orders=60, customers=15, seed=3, days=30)
    with running_shopify(fake) as running:
        monkeypatch.setenv(SHOPIFY_TOKEN_ENV, running.token)
        yield running


def test_a_backfill_without_a_terminal_logs_its_progress(
        make_harness: Callable[..., Harness], shop: RunningShopify) -> None:
    h = make_harness(sources=shopify_source(shop.base_url, batch_size=10,
                                            backfill_window_days=10))
    since = (datetime.now(UTC) - timedelta(days=29)).date().isoformat()
    until = (datetime.now(UTC) + timedelta(days=1)).date().isoformat()
    env = {**os.environ, API_KEY_ENV: TEST_KEY}
    proc = subprocess.run(
        [sys.executable, "-m", "connector", "backfill", "--config", str(h.root / "config.toml"),
         "--source", "shopify", "--since", since, "--until", until],
        check=False, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode in (0, 1), proc.stderr[-2000:]
    lines = [json.loads(line) for line in proc.stderr.splitlines() if line.startswith("{")]
    progress = [e for e in lines if e.get("event") == "backfill progress"]
    assert len(progress) >= 2  # after the first batch (then every 5 s...) and at the end
    first = progress[0]
    assert first["records"] > 0 and "done" not in first
    last = progress[-1]
    assert last["done"] is True and last["records"] > 60  # orders and their refunds
    assert last["records_per_second"] > 0 and last["requests"] > 0
    # the total is estimated from the first window's order count and refined per window;
    # once every window is counted and read it is exact
    assert "total" in first and "eta_seconds" in first
    assert last["total"] == last["records"]
    assert "\x1b[" not in proc.stderr  # no bar, no terminal codes
