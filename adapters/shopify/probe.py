"""What ``sticky-sync check`` and ``discover`` ask of a Shopify shop: that the token works
and the shop answers, which API version served the request, the scopes granted and the
ones missing, whether protected customer data (name, e-mail, phone) can be read, and the
shop's locations. Nothing is written.

Shopify falls forward silently from an unsupported version to the oldest supported one
(reference shopify.md §4.2): the ``X-Shopify-API-Version`` answer header tells which
version really served the request.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from adapters.records import LocationRecord
from adapters.shopify import nodes, queries
from adapters.shopify.client import QueryRefused, ShopifyGraphQL

REQUIRED_SCOPES = ("read_customers", "read_orders", "read_locations")
HISTORY_SCOPE = "read_all_orders"
"""Without it Shopify shows only the last 60 days of orders (shopify.md §1.2)."""

PROBE = """query Probe {
  shop { name myshopifyDomain ianaTimezone }
  currentAppInstallation { accessScopes { handle } }
}"""

CUSTOMER_PROBE = """query ProbeCustomer {
  customers(first: 1) {
    nodes { id firstName defaultEmailAddress { emailAddress } defaultPhoneNumber { phoneNumber } }
  }
}"""


@dataclass(slots=True)
class ShopProbe:
    shop: str
    domain: str
    timezone: str | None
    requested_version: str
    served_version: str | None
    scopes: list[str] = field(default_factory=list)
    customer_data: str = "unknown"
    """``granted`` (a customer was read with its contact fields), ``refused`` (Shopify
    answered that the app may not read them), ``not verified`` (no customer to read)."""
    customer_data_detail: str = ""

    @property
    def missing_scopes(self) -> list[str]:
        return [s for s in REQUIRED_SCOPES if s not in self.scopes]

    @property
    def version_served_as_asked(self) -> bool:
        return self.served_version in (None, self.requested_version)


def probe_shop(gql: ShopifyGraphQL) -> ShopProbe:
    data = gql.execute("Probe", PROBE).data
    shop = data.get("shop") or {}
    scopes = sorted({str(s.get("handle")) for s in nodes._get(
        data, "currentAppInstallation", "accessScopes") or [] if isinstance(s, dict)})
    found = ShopProbe(shop=str(shop.get("name") or "?"),
                      domain=str(shop.get("myshopifyDomain") or "?"),
                      timezone=shop.get("ianaTimezone"),
                      requested_version=gql.api_version,
                      served_version=gql.served_version, scopes=scopes)
    if "read_customers" not in scopes:
        found.customer_data, found.customer_data_detail = "not verified", (
            "needs read_customers first")
        return found
    try:
        customers = gql.execute("ProbeCustomer", CUSTOMER_PROBE).data
    except QueryRefused as exc:
        found.customer_data, found.customer_data_detail = "refused", str(exc)
        return found
    first = next(iter(nodes._get(customers, "customers", "nodes") or []), None)
    if not isinstance(first, dict):
        found.customer_data, found.customer_data_detail = "not verified", (
            "the shop has no customer to read")
        return found
    contact = [first.get("firstName"), _nested(first, "defaultEmailAddress", "emailAddress"),
               _nested(first, "defaultPhoneNumber", "phoneNumber")]
    if any(value for value in contact):
        found.customer_data = "granted"
    else:
        found.customer_data, found.customer_data_detail = "not verified", (
            "the first customer came back with no name, e-mail or phone: either it has "
            "none, or they are redacted for lack of protected customer data access")
    return found


def _nested(node: dict[str, Any], outer: str, inner: str) -> Any:
    value = node.get(outer)
    return value.get(inner) if isinstance(value, dict) else None


def shop_locations(source: str, gql: ShopifyGraphQL) -> Iterator[LocationRecord]:
    """Every location (active or not), as the adapter reads them."""
    after: str | None = None
    while True:
        data = gql.execute("Locations", queries.LOCATIONS, {"after": after}).data
        page = data.get("locations") or {}
        for node in page.get("nodes") or []:
            if isinstance(node, dict):
                yield nodes.location_record(source, node)
        info = page.get("pageInfo") or {}
        after = info.get("endCursor") if info.get("hasNextPage") else None
        if not after:
            return
