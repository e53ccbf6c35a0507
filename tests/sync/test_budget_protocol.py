"""The shared rate budget's join protocol between two processes' budgets (two
``SharedBudget`` on one state DB, in one event loop): whatever the order in which they
start sending to a workspace, and while one of them already keeps another workspace, the
requests both let out never exceed the cap in any rolling second."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from connector.delivery.limits import WorkspaceLimiters, WorkspacePace
from connector.sync.budget import JOIN_DELAY, SharedBudget
from state import StateStore

CAP = 100


@pytest.fixture
def store(tmp_path: Path) -> Iterator[StateStore]:
    opened = StateStore.open(f"sqlite:///{tmp_path / 'state.db'}")
    yield opened
    opened.close()


def peak(stamps: list[float]) -> int:
    stamps = sorted(stamps)
    best, start = 0, 0
    for end, at in enumerate(stamps):
        while at - stamps[start] >= 1.0:
            start += 1
        best = max(best, end - start + 1)
    return best


async def send(limiters: WorkspaceLimiters, workspace: str, until: float,
               stamps: list[float], lanes: int = 4) -> None:
    """``lanes`` requests at a time, as the sender keeps several in flight."""
    async def lane() -> None:
        while time.monotonic() < until:
            await limiters.acquire(workspace)
            stamps.append(time.monotonic())
            await asyncio.sleep(0.005)  # the request itself

    await asyncio.gather(*(lane() for _ in range(lanes)))


def test_a_sender_joining_a_busy_workspace_waits_for_the_others_to_slow_down(
        store: StateStore) -> None:
    async def scenario() -> tuple[list[float], list[float], list[float]]:
        pace = WorkspacePace.for_cap(CAP, 0.03)
        a, b = WorkspaceLimiters(pace), WorkspaceLimiters(pace)
        a.budget = SharedBudget(store, "a", a)
        b.budget = SharedBudget(store, "b", b)
        w2_a: list[float] = []
        w2_b: list[float] = []
        w1_a: list[float] = []
        end = time.monotonic() + 7
        try:
            # a already keeps w1 (its beat task runs); b sends to w2 at the whole cap
            tasks = [asyncio.create_task(send(a, "w1", end, w1_a)),
                     asyncio.create_task(send(b, "w2", end, w2_b))]
            await asyncio.sleep(1.3)
            joined = time.monotonic()
            tasks.append(asyncio.create_task(send(a, "w2", end, w2_a)))
            await asyncio.gather(*tasks)
            first = min(w2_a)
            assert first - joined >= JOIN_DELAY - 0.1, first - joined
        finally:
            await a.budget.aclose()
            await b.budget.aclose()
        return w1_a, w2_a, w2_b

    w1_a, w2_a, w2_b = asyncio.run(scenario())
    assert peak(w2_a + w2_b) <= CAP - 1, peak(w2_a + w2_b)
    assert peak(w1_a) <= CAP - 1
    assert len(w2_a) > 50 and len(w2_b) > 200  # both sent: nobody starved
    assert store.senders.live() == {}  # both left when closed
