"""Parsing a source's ``schedule``: ``every 5m`` / ``every 1h30m`` or a 5-field cron line."""

from __future__ import annotations

import re
from dataclasses import dataclass

from apscheduler.triggers.cron import CronTrigger

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_EVERY = re.compile(r"^every\s+((?:\d+\s*[smhd]\s*)+)$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Schedule:
    interval_seconds: int | None = None
    cron: str | None = None


_DURATION = re.compile(r"^((?:\d+\s*[smhd]\s*)+)$", re.IGNORECASE)


def parse_duration(text: str) -> int:
    """``"10m"``, ``"1h30m"``, ``"90s"`` → seconds (0 allowed)."""
    match = _DURATION.match(text.strip())
    if not match:
        raise ValueError(f"{text!r} is not a duration such as 90s, 10m, 1h30m or 1d")
    return sum(int(n) * _UNITS[u.lower()]
               for n, u in re.findall(r"(\d+)\s*([smhdSMHD])", match.group(1)))


def parse_schedule(text: str) -> Schedule:
    value = text.strip()
    match = _EVERY.match(value)
    if match:
        seconds = sum(int(n) * _UNITS[u.lower()]
                      for n, u in re.findall(r"(\d+)\s*([smhdSMHD])", match.group(1)))
        if seconds < 1:
            raise ValueError(f"{text!r}: the interval must be at least 1s")
        return Schedule(interval_seconds=seconds)
    if len(value.split()) == 5:
        try:
            CronTrigger.from_crontab(value)
        except ValueError as exc:
            raise ValueError(f"{text!r} is not a valid cron expression: {exc}") from exc
        return Schedule(cron=value)
    raise ValueError(f"{text!r} is neither 'every <n>s|m|h|d' nor a 5-field cron expression")
