"""The Shopify client on the shared HTTP layer, and the page size the adapter learns,
against the Shopify fake over real HTTP.

Every wait goes through the injected sleep, which records it: the waits asserted here are
the ones the shared policy (``adapters.http.SOURCE_POLICY``: jittered exponential backoff,
``Retry-After`` honoured, 429 waits not counted as failures) and the cost bucket decided.
"""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import SecretStr

from adapters.http import SOURCE_POLICY
from adapters.shopify import ShopifyAdapter, ShopifySettings, queries
from adapters.shopify.adapter import TUNING_STREAM
from adapters.shopify.client import MIN_THROTTLE_WAIT, ShopifyGraphQL
from connector.errors import AuthenticationFailed, SourceUnreadable
from tests.adapters.support import MemoryState, run
from tests.shopify_fake import ShopifyFake, running_shopify
from tests.shopify_fake.server import RunningShopify

SOURCE = "shop-main"
SHOP_NAME = "query ShopName { shop { name } }"
WIDE = "query Wide { customers(first: 250) { nodes { id } } }"
"""Requested cost 2 + 250 * 1 = 252: enough to drain a small bucket on purpose."""
WIDE_COST = 252
FIRST_BACKOFF = (SOURCE_POLICY.backoff_multiplier, 2 * SOURCE_POLICY.backoff_multiplier)
"""The policy's first backoff: multiplier * 2**0 plus a jitter of up to the multiplier."""
JITTER = 0.05
"""What the policy adds to a server-given (or bucket-given) wait."""


class Waits:
    """The injected sleep: records every wait; ``real`` also sleeps it (the fake's bucket
    refills on the real clock, so a throttled retry must really wait)."""

    def __init__(self, *, real: bool = False) -> None:
        self.seconds: list[float] = []
        self.real = real

    def __call__(self, seconds: float) -> None:
        self.seconds.append(seconds)
        if self.real:
            time.sleep(seconds + 0.02)  # as a real sleep does, overshoot a little


@pytest.fixture
def fake() -> ShopifyFake:
    return ShopifyFake(now=datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2),
                       maximum_available=1000.0, restore_rate=1000.0)


@pytest.fixture
def shop(fake: ShopifyFake) -> Iterator[RunningShopify]:
    with running_shopify(fake) as running:
        yield running


def client(shop: RunningShopify, waits: Waits, *, token: str | None = None,
           api_version: str = "2026-07", max_attempts: int = 4) -> ShopifyGraphQL:
    return ShopifyGraphQL(shop.base_url, api_version, SecretStr(token or shop.token),
                          max_attempts=max_attempts, sleep=waits, source=SOURCE)


def statuses(fake: ShopifyFake) -> list[int]:
    return [r.status for r in fake.requests]


# -- (a) transient failures: retried by the shared policy, with the waits it decides ----
@pytest.mark.parametrize(("fault", "first_status"), [
    ("server_errors_next", 503),  # HTTP 503 (status table: retry)
    ("internal_error_next", 200),  # INTERNAL_SERVER_ERROR in a 200 (raised as ServerError)
    ("disconnects_next", 0),  # the connection dropped mid-answer (NetworkError)
])
def test_a_transient_failure_is_retried_after_the_policys_backoff(
        shop: RunningShopify, fake: ShopifyFake, fault: str, first_status: int) -> None:
    setattr(fake, fault, 1)
    waits = Waits()
    with client(shop, waits) as gql:
        answer = gql.execute("ShopName", SHOP_NAME)
    assert answer.data["shop"]["name"] == fake.shop.name
    assert statuses(fake) == [first_status, 200]
    [wait] = waits.seconds
    assert FIRST_BACKOFF[0] <= wait <= FIRST_BACKOFF[1]
    assert (gql.stats.requests, gql.stats.retried, gql.stats.throttled) == (2, 1, 0)
    assert gql.stats.waited_seconds == 0  # backoff is not time waited for the bucket


def test_backoff_grows_and_exhausted_retries_name_the_source_the_query_and_the_host(
        shop: RunningShopify, fake: ShopifyFake) -> None:
    fake.server_errors_next = 10
    waits = Waits()
    with client(shop, waits, max_attempts=3) as gql, \
            pytest.raises(SourceUnreadable) as caught:
        gql.execute("ShopName", SHOP_NAME)
    assert statuses(fake) == [503, 503, 503]
    first, second = waits.seconds
    assert FIRST_BACKOFF[0] <= first <= FIRST_BACKOFF[1]
    assert 2 * FIRST_BACKOFF[0] <= second <= 2 * FIRST_BACKOFF[0] + FIRST_BACKOFF[0]
    message = str(caught.value)
    assert f"source {SOURCE}: query ShopName ({shop.host}:{shop.port})" in message
    assert "still failing after 3 attempts" in message and "503" in message
    assert gql.stats.retried == 2


def test_a_throttled_200_waits_what_the_cost_bucket_says(
        shop: RunningShopify, fake: ShopifyFake) -> None:
    fake.restore_rate = 200.0
    fake.set_currently_available(0)
    waits = Waits(real=True)
    with client(shop, waits) as gql:
        gql.execute("Wide", WIDE)
    assert [r.throttled for r in fake.requests] == [True, False]
    assert statuses(fake) == [200, 200]
    [wait] = waits.seconds
    # (requested cost - points back since the drain) / restoreRate, plus the jitter
    expected = WIDE_COST / 200.0
    assert expected - 0.1 <= wait <= expected + JITTER
    assert wait > MIN_THROTTLE_WAIT
    assert (gql.stats.throttled, gql.stats.retried) == (1, 0)
    assert gql.stats.waited_seconds == pytest.approx(wait)


def test_a_429_waits_its_retry_after_and_is_not_a_failed_attempt(
        shop: RunningShopify, fake: ShopifyFake) -> None:
    fake.throttle_status = 429
    fake.restore_rate = 500.0  # ~0.5 s to refill: the fake says Retry-After: 1.0
    fake.set_currently_available(0)
    waits = Waits(real=True)
    with client(shop, waits, max_attempts=1) as gql:  # a failure would end the call
        gql.execute("Wide", WIDE)
    assert statuses(fake) == [429, 200]
    [wait] = waits.seconds
    assert 1.0 <= wait <= 1.0 + JITTER
    assert (gql.stats.throttled, gql.stats.retried) == (1, 0)


def test_a_bulk_download_is_retried_by_the_same_policy_without_the_token(
        shop: RunningShopify, fake: ShopifyFake) -> None:
    fake.add_order(customer=fake.add_customer(phone="+14155550123"), total="12.00")
    waits = Waits()
    with client(shop, waits) as gql:
        search = queries.search("created_at", "2000-01-01T00:00:00Z", "2100-01-01T00:00:00Z")
        run_query = queries.bulk_orders_query(search or "")
        operation = gql.execute("BulkRun", queries.BULK_RUN, {"query": run_query}).data[
            "bulkOperationRunQuery"]["bulkOperation"]["id"]
        url = ""
        for _ in range(5):
            url = url or gql.execute("BulkPoll", queries.BULK_POLL, {"id": operation}).data[
                "bulkOperation"]["url"] or ""
        fake.download_errors_next = 1
        into = io.BytesIO()
        gql.download(url, into)
    assert b'"__parentId"' in into.getvalue()  # the whole file, once
    assert into.getvalue().count(b'"__parentId"') == 1
    [wait] = waits.seconds
    assert FIRST_BACKOFF[0] <= wait <= FIRST_BACKOFF[1]
    assert len(fake.downloads) == 1
    assert gql.stats.retried == 1


# -- (c) what retrying cannot fix -----------------------------------------------------
def test_a_refused_token_aborts_at_once_naming_the_source_and_the_token(
        shop: RunningShopify, fake: ShopifyFake) -> None:
    waits = Waits()
    with client(shop, waits, token="shpat_wrong") as gql, \
            pytest.raises(AuthenticationFailed) as caught:
        gql.execute("ShopName", SHOP_NAME)
    message = str(caught.value)
    assert f"source {SOURCE}: query ShopName ({shop.host}:{shop.port})" in message
    assert "Shopify answered 401: the access token was refused" in message
    assert "shpat_wrong" not in message and shop.token not in message
    assert statuses(fake) == [401]
    assert waits.seconds == []


def test_the_adapter_stops_on_a_refused_token_without_retrying(
        shop: RunningShopify, fake: ShopifyFake) -> None:
    waits = Waits()
    adapter = ShopifyAdapter(name=SOURCE, settings=settings(shop, token="shpat_wrong"),
                             sleep=waits)
    state = MemoryState()
    with pytest.raises(AuthenticationFailed, match="the access token was refused"):
        run(adapter, state)
    assert statuses(fake) == [401]
    assert waits.seconds == [] and state.cursors == {}


def test_a_status_with_a_shopify_meaning_is_not_retried(
        shop: RunningShopify, fake: ShopifyFake) -> None:
    waits = Waits()
    # A version that is not one (``latest``) is a 404 at Shopify, as for a shop that does
    # not exist.
    with client(shop, waits, api_version="latest") as gql, \
            pytest.raises(SourceUnreadable) as caught:
        gql.execute("ShopName", SHOP_NAME)
    assert "Shopify answered 404: the shop does not exist" in str(caught.value)
    assert f"source {SOURCE}: query ShopName" in str(caught.value)
    assert statuses(fake) == [404] and waits.seconds == []


# -- (b) the learned page size survives between runs --------------------------------
def settings(shop: RunningShopify, *, page_size: int = 50,
             token: str | None = None) -> ShopifySettings:
    return ShopifySettings(endpoint=shop.base_url, api_version="2026-07",
                           token=SecretStr(token or shop.token), page_size=page_size)


def sizes_sent(fake: ShopifyFake, operation: str) -> list[int]:
    return [int((r.variables or {})["first"]) for r in fake.requests
            if f"query {operation}" in (r.query or "")]


def cost_exceeded(fake: ShopifyFake) -> int:
    return sum("MAX_COST_EXCEEDED" in r.error_codes for r in fake.requests)


def test_the_next_run_starts_with_the_page_size_the_last_one_learned(
        shop: RunningShopify, fake: ShopifyFake) -> None:
    customers = [fake.add_customer(phone=f"+1415555{100 + i:04d}") for i in range(4)]
    for n in range(15):
        fake.add_order(customer=customers[n % 4], total=f"{n + 1}.00")
    state = MemoryState()

    run(ShopifyAdapter(name=SOURCE, settings=settings(shop), sleep=Waits()), state)
    # Orders cost 2 + 118 per order: 50, 25 and 12 are refused, 6 fits, 7 fits the target.
    assert sizes_sent(fake, "OrdersDelta") == [50, 25, 12, 6, 7, 7]
    assert cost_exceeded(fake) == 3
    assert state.cursors[TUNING_STREAM] == {"page_size": {"customers": 250, "orders": 7}}

    fake.clear_requests()
    fake.set_now(datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5))
    fake.add_order(customer=customers[0], total="99.00")  # something for the next window
    second = ShopifyAdapter(name=SOURCE, settings=settings(shop), sleep=Waits())
    batches = run(second, state)
    assert cost_exceeded(fake) == 0
    assert sizes_sent(fake, "OrdersDelta") == [7]
    assert any(b.stream == "orders" and b.records for b in batches)


def test_a_cut_page_size_grows_back_at_once_and_never_above_250(
        shop: RunningShopify, fake: ShopifyFake) -> None:
    for i in range(40):
        fake.add_customer(phone=f"+1415555{200 + i:04d}")
    state = MemoryState()
    # As if a one-off expensive answer had cut customers to 5 in an earlier run.
    state.put_cursor(TUNING_STREAM, {"page_size": {"customers": 5, "orders": 400}})
    run(ShopifyAdapter(name=SOURCE, settings=settings(shop, page_size=30), sleep=Waits()),
        state)
    # Customers cost 2 + 3 each: the first page of 5 measures it, and the next asks for
    # what fits under the target (300), at most Shopify's 250; the stored 400 for orders
    # starts at 250 (then is cut to fit).
    assert sizes_sent(fake, "CustomersDelta") == [5, 250]
    assert sizes_sent(fake, "OrdersDelta")[0] == 250
    assert state.cursors[TUNING_STREAM]["page_size"]["customers"] == 250
