"""Emulation of the Sticky loyalty API (``/v1``)."""

from __future__ import annotations

from sandbox.sticky.api import PREFIX, WORKSPACE_HEADER, sticky_definition
from sandbox.sticky.store import StickyStore

__all__ = ["PREFIX", "WORKSPACE_HEADER", "StickyStore", "sticky_definition"]
