"""Emulation of the Sticker partner API (served under ``/sticker``)."""

from __future__ import annotations

from sandbox.sticker.api import PREFIX, SETUP_PATH, sticker_definition
from sandbox.sticker.stats import StickerStats
from sandbox.sticker.store import StickerStore

__all__ = ["PREFIX", "SETUP_PATH", "StickerStats", "StickerStore", "sticker_definition"]
