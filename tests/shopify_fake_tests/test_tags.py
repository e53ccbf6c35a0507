"""``tagsAdd`` / ``tagsRemove`` on customers, and ``customer(id:) { id tags }``, over HTTP."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests.shopify_fake import TagMutation
from tests.shopify_fake_tests.conftest import NOW
from tests.shopify_fake_tests.support import Shop

ADD = """
mutation AddTags($id: ID!, $tags: [String!]!) {
  tagsAdd(id: $id, tags: $tags) {
    node { id ... on Customer { tags updatedAt } }
    userErrors { field message }
  }
}
"""
REMOVE = """
mutation RemoveTags($id: ID!, $tags: [String!]!) {
  tagsRemove(id: $id, tags: $tags) {
    node { id ... on Customer { tags updatedAt } }
    userErrors { field message }
  }
}
"""
CUSTOMER = "query($id: ID!) { customer(id: $id) { id tags updatedAt } }"


def _gid(number: int) -> str:
    return f"gid://shopify/Customer/{number}"


def _add(shop: Shop, customer_id: int, tags: Any) -> dict[str, Any]:
    payload = shop.data(ADD, {"id": _gid(customer_id), "tags": tags})["tagsAdd"]
    assert isinstance(payload, dict)
    return payload


def _remove(shop: Shop, customer_id: int, tags: Any) -> dict[str, Any]:
    payload = shop.data(REMOVE, {"id": _gid(customer_id), "tags": tags})["tagsRemove"]
    assert isinstance(payload, dict)
    return payload


def test_customer_by_id_answers_its_id_and_tags(shop: Shop) -> None:
    customer = shop.fake.add_customer(tags=["VIP", "wholesale"])
    seen = shop.data(CUSTOMER, {"id": _gid(customer.id)})["customer"]
    assert seen == {
        "id": _gid(customer.id),
        "tags": ["VIP", "wholesale"],
        "updatedAt": "2026-09-15T12:00:00Z",
    }
    assert shop.data(CUSTOMER, {"id": _gid(1)})["customer"] is None


def test_write_customers_is_granted_by_default(shop: Shop) -> None:
    data = shop.data("{ currentAppInstallation { accessScopes { handle description } } }")
    scopes = {s["handle"]: s["description"] for s in data["currentAppInstallation"]["accessScopes"]}
    assert scopes["write_customers"] == "Modify customer details and customer groups"


def test_tags_add_adds_the_missing_tags_and_bumps_updated_at(shop: Shop) -> None:
    fake = shop.fake
    tagged = fake.add_customer("Ada", tags=["VIP"])
    fake.advance(minutes=5)
    other = fake.add_customer("Bo")
    fake.advance(hours=1)
    payload = _add(shop, tagged.id, ["sticky-tier:gold", "vip"])
    assert payload == {
        "node": {
            "id": _gid(tagged.id),
            "tags": ["VIP", "sticky-tier:gold"],  # "vip" is already there (case-insensitive)
            "updatedAt": "2026-09-15T13:05:00Z",
        },
        "userErrors": [],
    }
    assert fake.tag_mutations == [
        TagMutation(tagged.id, "add", ("sticky-tier:gold", "vip"), True, ("sticky-tier:gold",))
    ]
    # An incremental read by updated_at sees the tagged customer again, after the other one.
    page = shop.data("{ customers(first: 5, sortKey: UPDATED_AT) { nodes { id } } }")
    assert [n["id"] for n in page["customers"]["nodes"]] == [_gid(other.id), _gid(tagged.id)]
    found = shop.data(
        "query($q: String) { customers(first: 5, query: $q) { nodes { id } } }",
        {"q": "tag:'sticky-tier:gold'"},
    )["customers"]["nodes"]
    assert found == [{"id": _gid(tagged.id)}]


def test_tags_add_of_a_present_tag_changes_nothing(shop: Shop) -> None:
    fake = shop.fake
    customer = fake.add_customer(tags=["Sticky-Tier:Gold"])
    fake.advance(hours=1)
    payload = _add(shop, customer.id, ["sticky-tier:gold"])
    assert payload["userErrors"] == []
    assert payload["node"]["tags"] == ["Sticky-Tier:Gold"]
    assert payload["node"]["updatedAt"] == "2026-09-15T12:00:00Z"  # no change, no bump
    [mutation] = fake.tag_mutations
    assert (mutation.changed, mutation.applied, mutation.error) == (False, (), None)


def test_tags_are_split_on_commas_trimmed_and_deduplicated(shop: Shop) -> None:
    customer = shop.fake.add_customer()
    payload = _add(shop, customer.id, " one, two ,,Two")  # a single string is accepted too
    assert payload["node"]["tags"] == ["one", "two"]
    payload = _add(shop, customer.id, ["  three  ", "four,five", ""])
    assert payload["node"]["tags"] == ["one", "two", "three", "four", "five"]


def test_tags_remove_is_case_insensitive_and_absent_tags_are_a_no_op(shop: Shop) -> None:
    fake = shop.fake
    customer = fake.add_customer(tags=["VIP", "sticky-tier:silver", "wholesale"])
    fake.advance(minutes=10)
    payload = _remove(shop, customer.id, ["STICKY-TIER:SILVER", "never-there"])
    assert payload == {
        "node": {
            "id": _gid(customer.id),
            "tags": ["VIP", "wholesale"],
            "updatedAt": "2026-09-15T12:10:00Z",
        },
        "userErrors": [],
    }
    fake.advance(minutes=10)
    again = _remove(shop, customer.id, ["sticky-tier:silver"])
    assert again["userErrors"] == []
    assert again["node"]["updatedAt"] == "2026-09-15T12:10:00Z"
    assert [(m.op, m.changed, m.applied) for m in fake.tag_mutations] == [
        ("remove", True, ("sticky-tier:silver",)),
        ("remove", False, ()),
    ]
    assert fake.get_customer(customer).tags == ["VIP", "wholesale"]


def test_an_unknown_customer_is_a_user_error_on_id(shop: Shop) -> None:
    customer = shop.fake.add_customer()
    shop.fake.delete_customer(customer)
    for mutation, field in ((ADD, "tagsAdd"), (REMOVE, "tagsRemove")):
        payload = shop.data(mutation, {"id": _gid(customer.id), "tags": ["x"]})[field]
        assert payload == {
            "node": None,
            "userErrors": [{"field": ["id"], "message": "Customer does not exist"}],
        }
    assert [m.error for m in shop.fake.tag_mutations] == ["Customer does not exist"] * 2


def test_an_id_that_is_not_a_gid_is_a_top_level_error(shop: Shop) -> None:
    body = shop.gql(ADD, {"id": "12345", "tags": ["x"]})
    assert body["data"] == {"tagsAdd": None}
    assert body["errors"][0]["message"] == "Invalid global id '12345'"
    assert body["errors"][0]["path"] == ["tagsAdd"]
    assert shop.fake.tag_mutations[0].customer_id is None


def test_other_resource_types_are_not_modelled(shop: Shop) -> None:
    order = shop.fake.add_order()
    body = shop.data(ADD, {"id": f"gid://shopify/Order/{order.id}", "tags": ["x"]})
    assert body["tagsAdd"]["node"] is None
    assert body["tagsAdd"]["userErrors"][0]["field"] == ["id"]
    assert shop.fake.get_order(order).tags == []


def test_without_write_customers_it_is_access_denied(shop: Shop) -> None:
    fake = shop.fake
    customer = fake.add_customer(tags=["VIP"])
    fake.drop_scope("write_customers")
    for mutation, field in ((ADD, "tagsAdd"), (REMOVE, "tagsRemove")):
        body = shop.gql(mutation, {"id": _gid(customer.id), "tags": ["VIP", "new"]})
        assert body["data"] == {field: None}
        [error] = body["errors"]
        assert error["path"] == [field]
        assert error["extensions"]["code"] == "ACCESS_DENIED"
        assert error["message"] == (
            f"Access denied for {field} field. Required access: `write_customers` access scope."
        )
    assert fake.get_customer(customer).tags == ["VIP"]
    assert [(m.op, m.error) for m in fake.tag_mutations] == [
        ("add", "ACCESS_DENIED"),
        ("remove", "ACCESS_DENIED"),
    ]
    # Reading still works with read_customers alone.
    assert shop.data(CUSTOMER, {"id": _gid(customer.id)})["customer"]["tags"] == ["VIP"]


def test_a_mutation_costs_ten_points(shop: Shop) -> None:
    fake = shop.fake
    customer = fake.add_customer()
    body = shop.gql(ADD, {"id": _gid(customer.id), "tags": ["a"]})
    cost = body["extensions"]["cost"]
    assert (cost["requestedQueryCost"], cost["actualQueryCost"]) == (10, 10)
    [request] = fake.requests
    assert (request.cost, request.requested_cost, request.operation_name) == (10, 10, None)
    fake.set_currently_available(5)
    throttled = shop.gql(REMOVE, {"id": _gid(customer.id), "tags": ["a"]})
    assert throttled["errors"][0]["extensions"]["code"] == "THROTTLED"
    assert fake.get_customer(customer).tags == ["a"]  # nothing ran
    assert len(fake.tag_mutations) == 1


def test_tag_length_and_count_limits_are_user_errors_on_tags(shop: Shop) -> None:
    fake = shop.fake
    customer = fake.add_customer(tags=[f"t{n}" for n in range(249)])
    fake.advance(minutes=1)
    too_long = _add(shop, customer.id, ["x" * 256])
    assert too_long["node"] is None
    assert too_long["userErrors"][0]["field"] == ["tags"]
    assert _add(shop, customer.id, ["x" * 255])["userErrors"] == []  # the 250th tag
    too_many = _add(shop, customer.id, ["one-more", "T0"])
    assert too_many["node"] is None
    assert too_many["userErrors"][0]["field"] == ["tags"]
    assert len(fake.get_customer(customer).tags) == 250
    assert _add(shop, customer.id, ["T0"])["userErrors"] == []  # present: still a no-op


def test_the_schema_types_the_payloads_like_shopify(shop: Shop) -> None:
    missing = shop.gql(
        'mutation { tagsAdd(id: "gid://shopify/Customer/1") { userErrors { message } } }'
    )
    assert missing["errors"][0]["extensions"]["code"] == "missingRequiredArguments"
    # ``node`` is the Node interface: ``tags`` needs a fragment on Customer.
    untyped = shop.gql(
        'mutation { tagsRemove(id: "gid://shopify/Customer/1", tags: ["a"]) '
        "{ node { tags } userErrors { field message } } }"
    )
    assert untyped["errors"][0]["extensions"] == {
        "code": "undefinedField",
        "typeName": "Node",
        "fieldName": "tags",
    }
    assert untyped.get("data") is None
    assert shop.fake.tag_mutations == []


def test_clear_requests_forgets_the_tag_mutations(shop: Shop) -> None:
    customer = shop.fake.add_customer()
    _add(shop, customer.id, ["a"])
    assert shop.fake.tag_mutations
    shop.fake.clear_requests()
    assert (shop.fake.tag_mutations, shop.fake.requests) == ([], [])


def test_updated_at_never_moves_back(shop: Shop) -> None:
    fake = shop.fake
    customer = fake.add_customer(updated_at=NOW + timedelta(days=1))
    payload = _add(shop, customer.id, ["a"])
    assert payload["node"]["updatedAt"] == "2026-09-16T12:00:00Z"
