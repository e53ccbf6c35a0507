"""Shopify source: the GraphQL Admin API (incremental windows) and bulk operations
(backfills). See ``adapters/shopify/README.md`` for the rules it follows."""

from adapters.shopify.adapter import ShopifyAdapter, ShopifySettings
from adapters.shopify.backfill import ShopifyBackfill

__all__ = ["ShopifyAdapter", "ShopifyBackfill", "ShopifySettings"]
