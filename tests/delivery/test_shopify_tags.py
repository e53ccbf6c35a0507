"""The loyalty-tier tag writer against the Shopify fake, over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

import pytest
import structlog
from pydantic import SecretStr

from adapters.shopify import queries
from adapters.shopify.client import Answer, ShopifyGraphQL
from adapters.shopify.nodes import customer_record
from connector.delivery.shopify_tags import ShopifyTagWriter, TagResult, customer_gid
from connector.errors import (
    AbortRun,
    AuthenticationFailed,
    InvalidRecord,
    RecordProblem,
    RejectedByTarget,
)
from tests.shopify_fake import ShopifyFake, running_shopify
from tests.shopify_fake.server import RunningShopify

NOW = datetime(2026, 9, 15, 12, 0, 0, tzinfo=UTC)


@pytest.fixture
def fake() -> ShopifyFake:
    return ShopifyFake(now=NOW)


@pytest.fixture
def shop(fake: ShopifyFake) -> Iterator[RunningShopify]:
    with running_shopify(fake) as running:
        yield running


def _client(shop: RunningShopify) -> ShopifyGraphQL:
    return ShopifyGraphQL(shop.base_url, "2026-07", SecretStr(shop.token), max_attempts=3,
                          sleep=lambda _: None)


@pytest.fixture
def graphql(shop: RunningShopify) -> Iterator[ShopifyGraphQL]:
    with _client(shop) as client:
        yield client


@pytest.fixture
def writer(graphql: ShopifyGraphQL) -> ShopifyTagWriter:
    return ShopifyTagWriter(graphql)


def _gid(number: int) -> str:
    return f"gid://shopify/Customer/{number}"


def _mutations(fake: ShopifyFake) -> list[tuple[str, tuple[str, ...]]]:
    return [(m.op, m.tags) for m in fake.tag_mutations]


def _operations(fake: ShopifyFake) -> list[str]:
    """What each request did: ``read``, ``tagsAdd`` or ``tagsRemove``."""
    kinds = []
    for request in fake.requests:
        query = request.query or ""
        kinds.append("tagsAdd" if "tagsAdd(" in query
                     else "tagsRemove" if "tagsRemove(" in query else "read")
    return kinds


def test_the_first_call_adds_the_tier_tag(writer: ShopifyTagWriter, fake: ShopifyFake) -> None:
    customer = fake.add_customer(tags=["VIP"])
    fake.advance(hours=1)
    result = writer.set_tier(_gid(customer.id), "gold")
    assert result == TagResult(_gid(customer.id), added=("sticky-tier:gold",), removed=())
    assert result.changed
    assert fake.get_customer(customer).tags == ["VIP", "sticky-tier:gold"]
    assert _operations(fake) == ["read", "tagsAdd"]
    # Shopify bumps updatedAt: the next incremental read of customers sees this one again.
    assert fake.get_customer(customer).updated_at == fake.now


def test_the_second_call_sends_no_mutation(writer: ShopifyTagWriter, fake: ShopifyFake) -> None:
    customer = fake.add_customer()
    writer.set_tier(_gid(customer.id), "gold")
    fake.clear_requests()
    again = writer.set_tier(_gid(customer.id), "gold")
    assert again == TagResult(_gid(customer.id), added=(), removed=())
    assert not again.changed
    assert _operations(fake) == ["read"]
    assert fake.tag_mutations == []


def test_a_tier_change_removes_the_old_tag_and_adds_the_new_one(
        writer: ShopifyTagWriter, fake: ShopifyFake) -> None:
    customer = fake.add_customer(tags=["VIP", "sticky-tier:gold", "wholesale"])
    result = writer.set_tier(_gid(customer.id), "platinum")
    assert result == TagResult(_gid(customer.id), added=("sticky-tier:platinum",),
                               removed=("sticky-tier:gold",))
    assert _operations(fake) == ["read", "tagsRemove", "tagsAdd"]
    assert _mutations(fake) == [("remove", ("sticky-tier:gold",)),
                                ("add", ("sticky-tier:platinum",))]
    assert fake.get_customer(customer).tags == ["VIP", "wholesale", "sticky-tier:platinum"]


def test_every_stale_tier_tag_goes_in_one_tags_remove_and_unrelated_tags_stay(
        writer: ShopifyTagWriter, fake: ShopifyFake) -> None:
    unrelated = ["VIP", "sticky-tierless", "tier:gold", "Sticky Tier: gold"]
    customer = fake.add_customer(tags=["STICKY-TIER:silver", *unrelated, "sticky-tier:bronze"])
    result = writer.set_tier(_gid(customer.id), "gold")
    assert result.removed == ("STICKY-TIER:silver", "sticky-tier:bronze")
    assert _mutations(fake) == [("remove", ("STICKY-TIER:silver", "sticky-tier:bronze")),
                                ("add", ("sticky-tier:gold",))]
    assert fake.get_customer(customer).tags == [*unrelated, "sticky-tier:gold"]


def test_the_wanted_tag_in_another_case_counts_as_present(
        writer: ShopifyTagWriter, fake: ShopifyFake) -> None:
    customer = fake.add_customer(tags=["Sticky-Tier:GOLD", "sticky-tier:silver"])
    result = writer.set_tier(_gid(customer.id), "gold")
    assert result == TagResult(_gid(customer.id), added=(), removed=("sticky-tier:silver",))
    assert _operations(fake) == ["read", "tagsRemove"]
    assert fake.get_customer(customer).tags == ["Sticky-Tier:GOLD"]


def test_a_numeric_id_and_a_custom_prefix(graphql: ShopifyGraphQL, fake: ShopifyFake) -> None:
    customer = fake.add_customer(tags=["Loyalty/Bronze"])
    writer = ShopifyTagWriter(graphql, prefix="loyalty/")
    result = writer.set_tier(str(customer.id), " Silver ")
    assert result == TagResult(_gid(customer.id), added=("loyalty/Silver",),
                               removed=("Loyalty/Bronze",))
    with pytest.raises(ValueError, match="prefix"):
        ShopifyTagWriter(graphql, prefix="a,b")


def test_an_unknown_customer_is_rejected_naming_the_gid(
        writer: ShopifyTagWriter, fake: ShopifyFake) -> None:
    customer = fake.add_customer()
    fake.delete_customer(customer)
    with pytest.raises(RejectedByTarget) as caught:
        writer.set_tier(_gid(customer.id), "gold")
    problem = caught.value
    assert isinstance(problem, RecordProblem)  # quarantine this record, go on with the rest
    assert (problem.reason, problem.field) == ("unknown_customer", "id")
    assert _gid(customer.id) in str(problem) and "field id" in str(problem)
    assert fake.tag_mutations == []


class _DeletesAfterTheRead(ShopifyGraphQL):
    """The customer is deleted in Shopify between our read and our mutation."""

    fake: ShopifyFake

    def execute(self, name: str, query: str,
                variables: Mapping[str, Any] | None = None) -> Answer:
        answer = super().execute(name, query, variables)
        if name == "CustomerTags":
            self.fake.delete_customer(str((variables or {})["id"]))
        return answer


def test_a_user_error_on_the_mutation_is_rejected_with_its_field(
        shop: RunningShopify, fake: ShopifyFake) -> None:
    customer = fake.add_customer()
    client = _DeletesAfterTheRead(shop.base_url, "2026-07", SecretStr(shop.token))
    client.fake = fake
    with client, pytest.raises(RejectedByTarget) as caught:
        ShopifyTagWriter(client).set_tier(_gid(customer.id), "gold")
    problem = caught.value
    assert (problem.reason, problem.field, problem.status) == ("unknown_customer", "id", 200)
    assert str(problem) == (f"Shopify tagsAdd on customer {_gid(customer.id)} was refused "
                            "(field id): id: Customer does not exist")


def test_a_tag_limit_user_error_is_rejected_on_tags(
        writer: ShopifyTagWriter, fake: ShopifyFake) -> None:
    customer = fake.add_customer(tags=[f"t{n}" for n in range(250)])
    with pytest.raises(RejectedByTarget) as caught:
        writer.set_tier(_gid(customer.id), "gold")
    assert (caught.value.reason, caught.value.field) == ("shopify_user_error", "tags")
    assert _gid(customer.id) in str(caught.value)


def test_without_write_customers_the_run_aborts_saying_what_to_grant(
        writer: ShopifyTagWriter, fake: ShopifyFake) -> None:
    customer = fake.add_customer(tags=["sticky-tier:gold"])
    fake.drop_scope("write_customers")
    with pytest.raises(AuthenticationFailed) as caught:
        writer.set_tier(_gid(customer.id), "silver")
    assert isinstance(caught.value, AbortRun)
    message = str(caught.value)
    assert "grant write_customers" in message and _gid(customer.id) in message
    assert "shpat_" not in message
    assert fake.get_customer(customer).tags == ["sticky-tier:gold"]
    assert [m.error for m in fake.tag_mutations] == ["ACCESS_DENIED"]


def test_without_read_customers_the_read_aborts_the_same_way(
        writer: ShopifyTagWriter, fake: ShopifyFake) -> None:
    customer = fake.add_customer()
    fake.drop_scope("read_customers")
    with pytest.raises(AuthenticationFailed, match="grant write_customers"):
        writer.set_tier(_gid(customer.id), "gold")
    assert _operations(fake) == ["read"]


def test_transient_failures_are_retried_by_the_graphql_client(
        writer: ShopifyTagWriter, graphql: ShopifyGraphQL, fake: ShopifyFake) -> None:
    customer = fake.add_customer()
    fake.server_errors_next = 1
    fake.internal_error_next = 1
    result = writer.set_tier(_gid(customer.id), "gold")
    assert result.added == ("sticky-tier:gold",)
    assert graphql.stats.retried == 2
    assert fake.get_customer(customer).tags == ["sticky-tier:gold"]


def test_a_tier_that_cannot_be_a_tag_is_an_invalid_record(
        writer: ShopifyTagWriter, fake: ShopifyFake) -> None:
    customer = fake.add_customer()
    for tier in ("", "  ", "gold,silver", "x" * 250):
        with pytest.raises(InvalidRecord) as caught:
            writer.set_tier(_gid(customer.id), tier)
        assert (caught.value.reason, caught.value.field) == ("invalid_tier", "tier")
    assert fake.requests == []


def test_the_token_is_never_logged(writer: ShopifyTagWriter, shop: RunningShopify,
                                   fake: ShopifyFake) -> None:
    customer = fake.add_customer(tags=["sticky-tier:silver"])
    with structlog.testing.capture_logs() as logs:
        writer.set_tier(_gid(customer.id), "gold")
    assert logs, "the change is logged"
    assert shop.token not in repr(logs)
    assert logs[-1]["customer"] == _gid(customer.id)


def test_customer_gid_accepts_a_number_or_a_gid() -> None:
    assert customer_gid("7204650000000") == "gid://shopify/Customer/7204650000000"
    assert customer_gid(" 7204650000000\n") == "gid://shopify/Customer/7204650000000"
    assert customer_gid("gid://shopify/Customer/42") == "gid://shopify/Customer/42"
    for bad in ("", "abc", "-1", "12.0", "gid://shopify/Order/42", "gid://shopify/Customer/",
                "gid://shopify/Customer/42?x=1", "٤٢"):
        with pytest.raises(InvalidRecord) as caught:
            customer_gid(bad)
        assert (caught.value.reason, caught.value.field) == ("invalid_customer_id",
                                                            "customer_id")


def test_customer_gid_inverts_the_adapters_customer_id(
        graphql: ShopifyGraphQL, fake: ShopifyFake) -> None:
    fake.add_customer("Ada", phone="+14155550123")
    fake.add_customer("Bo")
    data = graphql.execute("Customers", queries.CUSTOMERS, {"first": 10, "q": None}).data
    nodes = data["customers"]["nodes"]
    assert len(nodes) == 2
    for node in nodes:
        record = customer_record("shopify", node)
        assert record.customer_id is not None
        assert customer_gid(record.customer_id) == node["id"]
        # Without legacyResourceId the adapter takes the gid's tail: same inverse.
        bare = customer_record("shopify", {k: v for k, v in node.items()
                                           if k != "legacyResourceId"})
        assert bare.customer_id is not None
        assert customer_gid(bare.customer_id) == node["id"]
