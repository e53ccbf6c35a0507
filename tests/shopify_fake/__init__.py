"""A fake Shopify Admin GraphQL API (2026-07) for tests, served over real HTTP.

    from tests.shopify_fake import ShopifyFake, running_shopify

    fake = ShopifyFake()
    fake.generate(orders=500, seed=1)
    with running_shopify(fake) as shopify:
        shopify.graphql_url("2026-07")   # http://127.0.0.1:<port>/admin/api/2026-07/graphql.json
        shopify.token                    # "shpat_test_token" (X-Shopify-Access-Token)

See README.md in this folder for every behaviour, quirk and fault switch.
"""

from tests.shopify_fake.fake import (
    AUTO,
    DEFAULT_SCOPES,
    SUPPORTED_VERSIONS,
    GenerateSummary,
    RecordedRequest,
    ShopifyFake,
    TagMutation,
)
from tests.shopify_fake.model import (
    Address,
    BulkOperation,
    Customer,
    LineItem,
    Location,
    Order,
    Refund,
)
from tests.shopify_fake.server import (
    DEFAULT_TOKEN,
    DEFAULT_VERSION,
    RunningShopify,
    running_shopify,
)

__all__ = [
    "AUTO",
    "DEFAULT_SCOPES",
    "DEFAULT_TOKEN",
    "DEFAULT_VERSION",
    "SUPPORTED_VERSIONS",
    "Address",
    "BulkOperation",
    "Customer",
    "GenerateSummary",
    "LineItem",
    "Location",
    "Order",
    "RecordedRequest",
    "Refund",
    "RunningShopify",
    "ShopifyFake",
    "TagMutation",
    "running_shopify",
]
