"""The request type Sticky handlers receive."""

from __future__ import annotations

from sandbox.api import ApiRequest
from sandbox.stats import WorkspaceStats

StickyRequest = ApiRequest[WorkspaceStats]
