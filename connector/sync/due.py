"""Which sources are due: what `run --once` (a cron job every few minutes) uses to honour
each source's own ``schedule``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

from connector.config import SourceSettings, TenantSettings
from connector.schedule import parse_schedule
from connector.sync.lag import INCREMENTAL_TRIGGERS
from state import StateStore

SLACK = timedelta(seconds=60)
"""A source counts as due this much early: cron starts jobs a little late or early, and
``every 5m`` run by a 5-minute crontab must not skip every other slot."""


def is_due(store: StateStore, tenant: TenantSettings, source: SourceSettings,
           now: datetime | None = None) -> bool:
    """Due when it never ran, or its schedule fired since its last incremental run
    started (whatever that run's outcome: a failed run is retried at the next slot)."""
    moment = now or datetime.now(UTC)
    runs = [r for r in store.runs.recent(tenant.id, source.name, limit=20)
            if r.trigger in INCREMENTAL_TRIGGERS]
    if not runs:
        return True
    last = runs[0].started_at
    schedule = parse_schedule(source.schedule)
    if schedule.interval_seconds is not None:
        slack = min(SLACK, timedelta(seconds=schedule.interval_seconds / 10))
        return moment - last >= timedelta(seconds=schedule.interval_seconds) - slack
    assert schedule.cron is not None
    trigger = CronTrigger.from_crontab(schedule.cron, timezone=ZoneInfo(tenant.timezone))
    fire = trigger.get_next_fire_time(None, last.astimezone(ZoneInfo(tenant.timezone)))
    return fire is not None and fire <= moment + SLACK
