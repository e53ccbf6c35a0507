"""Building adapters from source configuration (composition root helper)."""

from __future__ import annotations

from adapters.base import Adapter
from adapters.csv_drop import CsvDropAdapter
from connector.config import CsvSourceSettings, SourceSettings
from connector.errors import ConfigurationError


def build_adapter(settings: SourceSettings) -> Adapter:
    if isinstance(settings, CsvSourceSettings):
        try:
            return CsvDropAdapter(name=settings.name, drop_dir=settings.drop_dir,
                                  stable_seconds=settings.stable_seconds,
                                  column_aliases=settings.columns)
        except ValueError as exc:
            raise ConfigurationError(f"source {settings.name}: columns: {exc}") from exc
    raise ConfigurationError(f"source {settings.name}: unsupported kind {settings.kind!r}")
