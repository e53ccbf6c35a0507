"""How far behind its source a (tenant, source) is, whatever the adapter's cursor shape."""

from __future__ import annotations

from datetime import UTC, datetime

from state import StateStore

INCREMENTAL_TRIGGERS = ("manual", "cron", "daemon")
"""Runs that read a source from its cursor (a backfill or a replay does not)."""


def cursor_lag_seconds(store: StateStore, tenant: str, source: str,
                       now: datetime | None = None) -> float | None:
    """Seconds since the start of the newest incremental run that read the source to the
    end: everything the source held at that moment has been settled since. ``None`` while
    no run ever completed."""
    run = store.runs.last_complete(tenant, source, INCREMENTAL_TRIGGERS)
    if run is None:
        return None
    return max(0.0, ((now or datetime.now(UTC)) - run.started_at).total_seconds())
