"""Building adapters from source configuration (composition root helper)."""

from __future__ import annotations

from datetime import date
from typing import Any

from adapters.base import Adapter
from adapters.csv_drop import CsvDropAdapter
from adapters.pos import PosAdapter, PosBackfill
from adapters.shopify import ShopifyAdapter, ShopifyBackfill, ShopifySettings
from connector.config import (
    CsvSourceSettings,
    PosSourceSettings,
    ShopifySourceSettings,
    SourceSettings,
    TenantSettings,
)
from connector.errors import ConfigurationError
from connector.schedule import parse_duration


def pos_arguments(settings: PosSourceSettings, tenant: TenantSettings | None) -> dict[str, Any]:
    """What a POS adapter is built from: the description and this source's settings."""
    return {"name": settings.name, "spec": settings.description(),
            "base_url": settings.base_url, "variables": settings.vars,
            "secrets": settings.secrets, "timeout_seconds": settings.timeout_seconds,
            "max_attempts": settings.max_attempts,
            "timezone": settings.timezone or (tenant.timezone if tenant else "UTC"),
            "start_date": settings.start_date,
            "phone_region": tenant.phone_region if tenant else "US"}


def build_adapter(settings: SourceSettings, tenant: TenantSettings | None = None) -> Adapter:
    """``tenant``: whose zone and phone region the source reads in (a POS whose
    description leaves the zone to the store)."""
    if isinstance(settings, CsvSourceSettings):
        try:
            return CsvDropAdapter(name=settings.name, drop_dir=settings.drop_dir,
                                  stable_seconds=settings.stable_seconds,
                                  column_aliases=settings.columns)
        except ValueError as exc:
            raise ConfigurationError(f"source {settings.name}: columns: {exc}") from exc
    if isinstance(settings, ShopifySourceSettings):
        return ShopifyAdapter(name=settings.name, settings=shopify_settings(settings))
    if isinstance(settings, PosSourceSettings):
        return PosAdapter(**pos_arguments(settings, tenant))
    raise ConfigurationError(f"source {settings.name}: unsupported kind {settings.kind!r}")


def build_backfill(settings: SourceSettings, since: date, until: date,
                   tenant: TenantSettings | None = None) -> Adapter:
    """The adapter of a one-shot backfill of ``[since, until)``."""
    if isinstance(settings, CsvSourceSettings):
        raise ConfigurationError(f"source {settings.name}: a CSV drop is backfilled by "
                                 "dropping the files of the period (backfill reads APIs)")
    if until <= since:
        raise ConfigurationError(f"--until {until} must be after --since {since}")
    if isinstance(settings, PosSourceSettings):
        return PosBackfill(since=since, until=until, **pos_arguments(settings, tenant))
    if not isinstance(settings, ShopifySourceSettings):
        raise ConfigurationError(f"source {settings.name}: no backfill for kind "
                                 f"{settings.kind!r}")
    return ShopifyBackfill(name=settings.name, settings=shopify_settings(settings),
                           since=since, until=until)


def shopify_settings(settings: ShopifySourceSettings) -> ShopifySettings:
    return ShopifySettings(
        endpoint=settings.endpoint, api_version=settings.api_version,
        token=settings.access_token(),
        lookback_seconds=parse_duration(settings.lookback),
        safety_margin_seconds=parse_duration(settings.safety_margin),
        start_date=settings.start_date, page_size=settings.page_size,
        timeout_seconds=settings.timeout_seconds, max_attempts=settings.max_attempts,
        backfill_window_days=settings.backfill_window_days)
