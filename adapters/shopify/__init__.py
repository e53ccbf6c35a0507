"""Shopify source: the GraphQL Admin API (incremental windows) and bulk operations
(backfills). The rules it follows are in ``docs/shopify.md``."""

from adapters.shopify.adapter import ShopifyAdapter, ShopifySettings
from adapters.shopify.backfill import ShopifyBackfill

__all__ = ["ShopifyAdapter", "ShopifyBackfill", "ShopifySettings"]
