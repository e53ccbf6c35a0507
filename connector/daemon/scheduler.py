"""Source schedules as APScheduler 3 jobs."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from connector.schedule import parse_schedule


def trigger_for(schedule: str, timezone: str) -> BaseTrigger:
    """``every 5m`` → an interval; a 5-field cron line → a cron trigger read in the
    tenant's time zone (``0 3 * * *`` is 3 am where the stores are)."""
    parsed = parse_schedule(schedule)
    zone = ZoneInfo(timezone)
    if parsed.interval_seconds is not None:
        return IntervalTrigger(seconds=parsed.interval_seconds, timezone=zone)
    assert parsed.cron is not None
    return CronTrigger.from_crontab(parsed.cron, timezone=zone)


def create_scheduler(misfire_grace_seconds: float) -> AsyncIOScheduler:
    """One instance per job at a time (a pass still running when its next time comes is
    not doubled: that time is skipped), missed times coalesced into one run."""
    # APScheduler logs every job start and end at INFO; the daemon logs its own passes.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    return AsyncIOScheduler(timezone=UTC, job_defaults={
        "coalesce": True, "max_instances": 1,
        "misfire_grace_time": max(1, round(misfire_grace_seconds))})


def add_pass_job(scheduler: AsyncIOScheduler, job_id: str, trigger: BaseTrigger,
                 job: Callable[[], Awaitable[None]]) -> Any:
    """A job whose first run is right away (then on ``trigger``)."""
    return scheduler.add_job(job, trigger, id=job_id, name=job_id,
                             next_run_time=datetime.now(UTC))
