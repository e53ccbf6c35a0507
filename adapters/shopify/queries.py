"""The GraphQL documents the adapter sends (pinned by the cassette tests)."""

from __future__ import annotations

MONEY = "shopMoney { amount currencyCode }"

CUSTOMER_FIELDS = """
      id legacyResourceId firstName lastName updatedAt
      defaultEmailAddress { emailAddress marketingState marketingOptInLevel marketingUpdatedAt }
      defaultPhoneNumber { phoneNumber marketingState marketingOptInLevel marketingUpdatedAt
                           marketingCollectedFrom }"""

ORDER_FIELDS = f"""
      id legacyResourceId name createdAt updatedAt processedAt cancelledAt test
      sourceName displayFinancialStatus phone
      retailLocation {{ id legacyResourceId }}
      totalPriceSet {{ {MONEY} }}
      customer {{ id legacyResourceId defaultPhoneNumber {{ phoneNumber marketingState }}
                  defaultEmailAddress {{ marketingState }} }}
      refunds(first: 20) {{ id legacyResourceId createdAt totalRefundedSet {{ {MONEY} }} }}"""

SCOPES = "query AccessScopes { currentAppInstallation { accessScopes { handle } } }"

LOCATIONS = """query Locations($after: String) {
  locations(first: 250, after: $after) {
    pageInfo { hasNextPage endCursor }
    nodes { id legacyResourceId name isActive
            address { address1 address2 city province provinceCode zip countryCode phone } }
  }
}"""

CUSTOMERS = f"""query CustomersDelta($first: Int!, $after: String, $q: String) {{
  customers(first: $first, after: $after, query: $q, sortKey: UPDATED_AT) {{
    pageInfo {{ hasNextPage endCursor }}
    nodes {{{CUSTOMER_FIELDS}
    }}
  }}
}}"""

ORDERS = f"""query OrdersDelta($first: Int!, $after: String, $q: String) {{
  orders(first: $first, after: $after, query: $q, sortKey: UPDATED_AT) {{
    pageInfo {{ hasNextPage endCursor }}
    nodes {{{ORDER_FIELDS}
      lineItems(first: 50) {{ pageInfo {{ hasNextPage }} nodes {{ id sku quantity }} }}
    }}
  }}
}}"""


def bulk_orders_query(search: str) -> str:
    """The inner query of a bulk backfill: no sortKey (it made Shopify omit records in
    bulk queries), line items as a nested connection (emitted as child lines)."""
    return f"""{{
  orders(query: {_quote(search)}) {{
    edges {{ node {{{ORDER_FIELDS}
      lineItems {{ edges {{ node {{ id sku quantity }} }} }}
    }} }}
  }}
}}"""


BULK_RUN = """mutation BulkRun($query: String!) {
  bulkOperationRunQuery(query: $query, groupObjects: false) {
    bulkOperation { id status }
    userErrors { field message code }
  }
}"""

BULK_POLL = """query BulkPoll($id: ID!) {
  bulkOperation(id: $id) {
    id status errorCode objectCount rootObjectCount url partialDataUrl
  }
}"""


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def search(field: str, since: str | None, until: str | None) -> str | None:
    """``updated_at:>='…' AND updated_at:<'…'`` with quoted timestamps; ``None`` when there
    is no bound (an empty filter value makes Shopify fail)."""
    terms = []
    if since:
        terms.append(f"{field}:>='{since}'")
    if until:
        terms.append(f"{field}:<'{until}'")
    return " AND ".join(terms) or None
