"""Helpers shared by the POS fakes' own tests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import httpx2

from tests.pos_fake import PosFake, RunningPos, running_pos

NOW = datetime(2026, 5, 15, 18, 0, 0, tzinfo=UTC)


@contextmanager
def serve(
    fake: PosFake, headers: dict[str, str] | None = None
) -> Iterator[tuple[RunningPos, httpx2.Client]]:
    """The fake on a free loopback port plus an httpx2 client bound to it."""
    with (
        running_pos(fake) as pos,
        httpx2.Client(base_url=pos.base_url, headers=headers, timeout=10) as client,
    ):
        yield pos, client
