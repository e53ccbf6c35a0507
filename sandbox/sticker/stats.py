"""Sticker request and outcome counters (``/_sandbox/stats`` → ``"sticker"``)."""

from __future__ import annotations

from dataclasses import dataclass

from sandbox.stats import RequestStats


@dataclass
class StickerStats(RequestStats):
    organizations_created: int = 0
    profiles_created: int = 0
    conflicts: int = 0  # 409 USER_ALREADY_EXISTS
    validation_errors: int = 0  # 400 VALIDATION_ERROR
    setup_errors: int = 0  # injected 500 SETUP_ERROR (both modes)
    peak_window: int = 0  # most counted requests seen in one rolling window

    def record_window(self, in_window: int) -> None:
        self.peak_window = max(self.peak_window, in_window)
