"""``tagsAdd`` / ``tagsRemove`` on customers, the way the Admin API applies them.

* ``tags``: each element is split on commas, trimmed, blanks dropped (so ``"a, b"`` is two
  tags, as the shopify.dev examples send); duplicates within one call count once.
* Uniqueness is **case-insensitive**: adding ``VIP`` to a customer tagged ``vip`` is a no-op,
  and removing ``VIP`` removes ``vip``. Adding a present tag or removing an absent one is a
  no-op, not an error.
* Only a real change bumps the customer's ``updatedAt`` to the fake's ``now`` (so an
  incremental read by ``updated_at`` sees the customer again).
* Customer ids need the ``write_customers`` scope: without it the field is ``null`` with an
  ``ACCESS_DENIED`` error (path ``["tagsAdd"]``), like the read fields.
* userErrors (``node: null``): unknown customer → ``field: ["id"]``, ``"Customer does not
  exist"`` (worded after shopify.dev's "add tags to a product that does not exist"
  example); a tag over 255 characters or more than 250 tags on the customer →
  ``field: ["tags"]`` (the fake's own wording). An id that is not a gid is a top-level
  ``Invalid global id`` error, as for ``node(id:)``.

Every call that reaches the resolver lands in :attr:`ShopifyFake.tag_mutations`, refused
ones too (with ``error``).
"""

from __future__ import annotations

from graphql import GraphQLError

from tests.shopify_fake.fake import ShopifyFake, TagMutation
from tests.shopify_fake.model import parse_gid
from tests.shopify_fake.resolvers import View, access_denied, customer_view

MAX_TAG_LENGTH = 255
MAX_TAGS = 250
FIELD_NAMES = {"add": "tagsAdd", "remove": "tagsRemove"}


def read_tags(raw: list[str] | str) -> tuple[str, ...]:
    """Shopify's reading of a ``tags`` argument: split on commas, trimmed, no blanks, each
    tag once (case-insensitively; the first spelling wins)."""
    elements = [raw] if isinstance(raw, str) else raw
    seen: set[str] = set()
    tags: list[str] = []
    for element in elements:
        for part in element.split(","):
            tag = part.strip()
            if tag and tag.lower() not in seen:
                seen.add(tag.lower())
                tags.append(tag)
    return tuple(tags)


def _refused(
    fake: ShopifyFake,
    op: str,
    number: int | None,
    tags: tuple[str, ...],
    field: list[str],
    message: str,
) -> View:
    fake.record_tag_mutation(TagMutation(number, op, tags, changed=False, error=message))
    return {"node": None, "userErrors": [{"field": field, "message": message}]}


def change_tags(fake: ShopifyFake, op: str, global_id: str, raw_tags: list[str]) -> View:
    """The ``TagsAddPayload``/``TagsRemovePayload`` of one call (``op``: add or remove)."""
    tags = read_tags(raw_tags)
    parsed = parse_gid(global_id)
    if parsed is None:
        message = f"Invalid global id '{global_id}'"
        fake.record_tag_mutation(TagMutation(None, op, tags, False, error=message))
        raise GraphQLError(message, extensions={"code": "argumentLiteralsIncompatible"})
    kind, number = parsed
    if kind != "Customer":
        message = f"The fake models {FIELD_NAMES[op]} on customers only, not {kind}"
        return _refused(fake, op, number, tags, ["id"], message)
    if not fake.has_scope("write_customers"):
        fake.record_tag_mutation(TagMutation(number, op, tags, False, error="ACCESS_DENIED"))
        raise access_denied(FIELD_NAMES[op], "write_customers")
    customer = fake.store.customers.get(number)
    if customer is None:
        return _refused(fake, op, number, tags, ["id"], "Customer does not exist")
    if op == "add":
        too_long = next((t for t in tags if len(t) > MAX_TAG_LENGTH), None)
        if too_long is not None:
            message = f"Tag '{too_long[:40]}…' is too long (maximum is {MAX_TAG_LENGTH} characters)"
            return _refused(fake, op, number, tags, ["tags"], message)
        present = {t.lower() for t in customer.tags}
        applied = tuple(t for t in tags if t.lower() not in present)
        if len(customer.tags) + len(applied) > MAX_TAGS:
            message = (
                f"A customer can have at most {MAX_TAGS} tags "
                f"({len(customer.tags)} + {len(applied)} asked)"
            )
            return _refused(fake, op, number, tags, ["tags"], message)
        customer.tags.extend(applied)
    else:
        unwanted = {t.lower() for t in tags}
        applied = tuple(t for t in customer.tags if t.lower() in unwanted)
        customer.tags = [t for t in customer.tags if t.lower() not in unwanted]
    if applied:
        customer.updated_at = max(customer.updated_at, fake.now)
    fake.record_tag_mutation(TagMutation(number, op, tags, bool(applied), applied))
    return {"node": customer_view(customer, fake.shop.currency_code), "userErrors": []}
