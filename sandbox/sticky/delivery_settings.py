"""Webhook delivery settings and the retry schedule.

Sticky's doc: "6 attempts over 24 hours with exponential backoff". The delay before attempt
``n + 1`` is ``BASE_DELAY * 2 ** (n - 1)`` seconds, so the five gaps sum to 24 h, and the
whole schedule is multiplied by ``time_scale``.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass

MAX_ATTEMPTS = 6
SCHEDULE_SECONDS = 86400.0
BASE_DELAY = SCHEDULE_SECONDS / ((1 << (MAX_ATTEMPTS - 1)) - 1)  # 86400 / 31
MAX_DUPLICATES = 10


class WebhookSettingError(ValueError):
    """An invalid delivery setting; ``field`` names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def _positive_number(value: object) -> bool:
    if not isinstance(value, int | float) or isinstance(value, bool):
        return False
    return math.isfinite(value) and value > 0


@dataclass(frozen=True)
class WebhookSettings:
    """``time_scale`` (> 0) multiplies the retry schedule; ``duplicates`` (1..10) sends each
    attempt that many times back to back; ``timeout_seconds`` (> 0) bounds one POST."""

    time_scale: float = 1.0
    duplicates: int = 1
    timeout_seconds: float = 10.0

    def __post_init__(self) -> None:
        for name in ("time_scale", "timeout_seconds"):
            if not _positive_number(getattr(self, name)):
                raise WebhookSettingError(name, f"{name} must be a finite number > 0")
        count: object = self.duplicates
        if (
            not isinstance(count, int)
            or isinstance(count, bool)
            or not 1 <= count <= MAX_DUPLICATES
        ):
            raise WebhookSettingError(
                "duplicates", f"duplicates must be an integer from 1 to {MAX_DUPLICATES}"
            )

    def to_dict(self) -> dict[str, object]:
        return dataclasses.asdict(self)

    def updated(self, changes: Mapping[str, object]) -> WebhookSettings:
        """A copy with ``changes`` applied; unknown or invalid fields raise."""
        names = {f.name for f in dataclasses.fields(self)}
        for key in changes:
            if key not in names:
                raise WebhookSettingError(key, f"Unknown webhook setting: {key}")
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]

    def delay_after(self, attempt: int) -> float:
        """Seconds between scheduled attempt ``attempt`` (1-based) and the next one."""
        return BASE_DELAY * (1 << (attempt - 1)) * self.time_scale
