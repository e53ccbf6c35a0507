"""Write a customer's loyalty tier back to Shopify as a tag, ``sticky-tier:<tier>``.

:meth:`ShopifyTagWriter.set_tier` reads the customer's tags, then sends at most one
``tagsRemove`` (every other tag with the prefix) and at most one ``tagsAdd`` (the wanted
tag, when missing). Tags are compared case-insensitively, as Shopify keeps them unique, so
``Sticky-Tier:Gold`` already satisfies tier ``gold``; a second call sends no mutation.
Tags without the prefix are never touched.

The removal goes first: a customer at Shopify's 250-tag limit still gets the new tier.
Both mutations are idempotent (adding a present tag or removing an absent one is a no-op),
so the client's retry of a request whose answer was lost is harmless. A real change bumps
the customer's ``updatedAt`` in Shopify, so the next incremental read of customers sees it
again; that is expected.

Throttling, 5xx, ``INTERNAL_SERVER_ERROR`` and network errors are retried inside
:class:`~adapters.shopify.client.ShopifyGraphQL`; what it cannot fix arrives here as
``SourceUnreadable`` (an :class:`~connector.errors.AbortRun`) and is mapped:

* a :class:`~adapters.shopify.client.QueryRefused` whose codes include ``ACCESS_DENIED``
  (the app lacks ``write_customers``, or ``read_customers`` for the read)
  → :class:`~connector.errors.AuthenticationFailed` saying to grant ``write_customers``;
* anything else stays ``SourceUnreadable`` (the run stops; nothing to quarantine).

A customer Shopify does not know, or a ``userErrors`` answer, is a problem of this record
only: :class:`~connector.errors.RejectedByTarget` naming the customer gid and the field
(``status`` is the HTTP status of the answer, 200: Shopify reports these in the body).
A tier that cannot be a Shopify tag is :class:`~connector.errors.InvalidRecord`.

The access token lives in the ``ShopifyGraphQL`` client; nothing here sees or logs it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import structlog

from adapters.shopify.client import QueryRefused, ShopifyGraphQL
from connector.errors import AuthenticationFailed, InvalidRecord, RejectedByTarget, SourceUnreadable

log = structlog.get_logger("connector.delivery.shopify_tags")

CUSTOMER_GID_PREFIX = "gid://shopify/Customer/"
DEFAULT_PREFIX = "sticky-tier:"
MAX_TAG_LENGTH = 255
"""Shopify's limit on one tag (characters)."""
REQUIRED_SCOPE = "write_customers"

CUSTOMER_TAGS = "query CustomerTags($id: ID!) { customer(id: $id) { id tags } }"
TAGS_ADD = ("mutation TagsAdd($id: ID!, $tags: [String!]!) { tagsAdd(id: $id, tags: $tags) "
            "{ node { id } userErrors { field message } } }")
TAGS_REMOVE = ("mutation TagsRemove($id: ID!, $tags: [String!]!) { tagsRemove(id: $id, "
               "tags: $tags) { node { id } userErrors { field message } } }")


@dataclass(frozen=True, slots=True)
class TagResult:
    customer_gid: str
    added: tuple[str, ...]
    """Tags added by this call (empty when the wanted tag was already there)."""
    removed: tuple[str, ...]
    """Tags removed by this call, spelled as Shopify had them."""

    @property
    def changed(self) -> bool:
        return bool(self.added or self.removed)


def customer_gid(customer_id: str) -> str:
    """``"7204650000000"`` or ``"gid://shopify/Customer/7204650000000"`` → the gid.

    The inverse of how the Shopify adapter keys customers (``CustomerRecord.customer_id``
    is the ``legacyResourceId``, the number at the end of the gid). Anything else is an
    :class:`InvalidRecord` (``invalid_customer_id``).
    """
    text = customer_id.strip()
    number = text.removeprefix(CUSTOMER_GID_PREFIX)
    if not (number.isascii() and number.isdigit()):
        raise InvalidRecord("invalid_customer_id",
                            f"{customer_id!r} is not a Shopify customer id or customer gid",
                            field="customer_id")
    return CUSTOMER_GID_PREFIX + number


_gid_of = customer_gid
"""(``set_tier``'s parameter is named ``customer_gid`` too.)"""


def _folded(tag: str) -> str:
    return tag.strip().lower()


class ShopifyTagWriter:
    """Keeps exactly one ``<prefix><tier>`` tag on a Shopify customer."""

    def __init__(self, graphql: ShopifyGraphQL, prefix: str = DEFAULT_PREFIX) -> None:
        if not prefix.strip() or prefix != prefix.lstrip() or "," in prefix:
            raise ValueError(f"tag prefix {prefix!r}: must be non-empty, start with no "
                             "blank and contain no comma")
        self.graphql = graphql
        self.prefix = prefix

    def tag_for(self, tier: str) -> str:
        """The tag for ``tier`` (``sticky-tier:gold``); :class:`InvalidRecord` when Shopify
        could not store it as one tag."""
        name = tier.strip()
        tag = self.prefix + name
        problem = ("is empty" if not name
                   else "contains a comma (Shopify would split it into two tags)" if "," in name
                   else f"makes a tag longer than {MAX_TAG_LENGTH} characters"
                   if len(tag) > MAX_TAG_LENGTH else None)
        if problem is not None:
            raise InvalidRecord("invalid_tier", f"loyalty tier {tier!r} {problem}", field="tier")
        return tag

    def set_tier(self, customer_gid: str, tier: str) -> TagResult:
        """Make ``<prefix><tier>`` the customer's only tag with the prefix."""
        gid = _gid_of(customer_gid)
        wanted = self.tag_for(tier)
        tags = self._read_tags(gid)
        folded_prefix = _folded(self.prefix)
        stale = tuple(t for t in tags if _folded(t).startswith(folded_prefix)
                      and _folded(t) != _folded(wanted))
        missing = all(_folded(t) != _folded(wanted) for t in tags)
        if stale:
            self._mutate("tagsRemove", TAGS_REMOVE, gid, stale)
        if missing:
            self._mutate("tagsAdd", TAGS_ADD, gid, (wanted,))
        result = TagResult(gid, (wanted,) if missing else (), stale)
        if result.changed:
            log.info("shopify customer tier tag set", customer=gid, added=list(result.added),
                     removed=list(result.removed))
        return result

    # -- internals ----------------------------------------------------------------------
    def _read_tags(self, gid: str) -> list[str]:
        data = self._call("CustomerTags", CUSTOMER_TAGS, gid, "read the tags of")
        customer = data.get("customer")
        if customer is None:
            raise RejectedByTarget("unknown_customer",
                                   f"Shopify customer {gid} does not exist (field id)",
                                   status=200, field="id")
        tags = customer.get("tags") if isinstance(customer, Mapping) else None
        if not isinstance(tags, list):
            raise SourceUnreadable(f"Shopify customer {gid}: the answer has no tags list")
        return [str(t) for t in tags]

    def _mutate(self, field: str, query: str, gid: str, tags: tuple[str, ...]) -> None:
        name = field[0].upper() + field[1:]
        data = self._call(name, query, gid, f"change ({field}) the tags of", tags)
        payload = data.get(field)
        if not isinstance(payload, Mapping):
            raise SourceUnreadable(f"Shopify {field} on customer {gid}: the answer has no "
                                   "payload")
        errors = [e for e in payload.get("userErrors") or [] if isinstance(e, Mapping)]
        if errors:
            raise _rejected(field, gid, errors)

    def _call(self, name: str, query: str, gid: str, what: str,
              tags: Iterable[str] | None = None) -> dict[str, Any]:
        variables: dict[str, Any] = {"id": gid}
        if tags is not None:
            variables["tags"] = list(tags)
        try:
            return self.graphql.execute(name, query, variables).data
        except QueryRefused as exc:
            if "ACCESS_DENIED" in exc.codes:
                raise AuthenticationFailed(
                    f"Shopify refused to {what} customer {gid}: the app lacks an access "
                    f"scope; grant {REQUIRED_SCOPE} (it includes read_customers) to the "
                    f"Shopify app and run again ({exc})") from exc
            raise


def _rejected(field: str, gid: str, errors: list[Mapping[str, Any]]) -> RejectedByTarget:
    first = errors[0]
    path = first.get("field")
    where = ".".join(str(p) for p in path) if isinstance(path, list) and path else None
    reason = "unknown_customer" if where == "id" else "shopify_user_error"
    detail = "; ".join(f"{'.'.join(map(str, e.get('field') or [])) or '-'}: "
                       f"{e.get('message', 'no message')}" for e in errors[:5])
    return RejectedByTarget(reason, f"Shopify {field} on customer {gid} was refused "
                            f"(field {where or 'none'}): {detail}", status=200, field=where)
