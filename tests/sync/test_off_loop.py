"""No SQL runs on the event loop: a pass (sources, automatic replays, the Sticker
organization step, the wallet-passes step, the shared budget) and a ``dlq retry`` do all
their state-DB work on other threads, so a locked or slow DB never stalls the loop that
paces requests and serves ``/healthz`` and webhooks."""

from __future__ import annotations

import asyncio
import threading
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event

from connector.sync.orchestrator import run_pass, run_replay, sticker_client, sticky_client
from sandbox.testing import SandboxAdmin
from state import StateStore
from tests.support import (
    CUSTOMER_HEADER,
    ORDER_HEADER,
    STORE_HEADER,
    WS_DOWNTOWN,
    drop_file,
    phone,
    sticker_section,
)
from tests.sync.conftest import Harness


@contextmanager
def sql_on_the_loop(store: StateStore) -> Iterator[list[str]]:
    """Collects, for every statement executed on a thread that is running an event
    loop, the statement and the project's frames that led to it (innermost last)."""
    found: list[str] = []

    def check(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        try:
            asyncio.get_running_loop()
        except RuntimeError:  # this thread runs no event loop: fine
            return
        frames = [f"{f.filename.rsplit('/work/', 1)[-1]}:{f.lineno} {f.name}"
                  for f in traceback.extract_stack()
                  if "/site-packages/" not in f.filename and "/lib/python3" not in f.filename
                  and not f.filename.endswith("test_off_loop.py")]
        found.append(f"{threading.current_thread().name}: {' '.join(statement.split())[:60]}"
                     + "".join(f"\n    {line}" for line in frames[-4:]))

    event.listen(store.engine, "before_cursor_execute", check)
    try:
        yield found
    finally:
        event.remove(store.engine, "before_cursor_execute", check)


def test_no_state_db_work_runs_on_the_event_loop(
        make_harness: Callable[..., Harness], admin: SandboxAdmin) -> None:
    h = make_harness(sticker=sticker_section(), passes={"mint_on_create": True})
    drop_file(h.drop, "stores.csv", STORE_HEADER, [
        ["001", "Downtown", "12 Main St", "", "Oakland", "CA", "94607", "", "Y"]])
    drop_file(h.drop, "customers_1.csv", CUSTOMER_HEADER, [
        [f"C{i}", phone(i), "", f"Name{i}", "", "", "", "", "", "001", ""]
        for i in range(3)])
    drop_file(h.drop, "orders_1.csv", ORDER_HEADER, [
        ["O1", "C1", "", "001", "2026-11-01T10:00:00Z", "5.00", "", ""],
        ["O8", "C8", "", "001", "2026-11-01T10:00:00Z", "8.00", "", ""],
        ["O9", "C9", "", "001", "2026-11-01T10:00:00Z", "9.00", "", ""]])
    store = h.store()

    async def passes() -> None:
        sticker = sticker_client(h.settings)
        assert sticker is not None
        try:
            async with sticky_client(h.settings, store) as sticky:  # with the shared budget
                first = await run_pass(h.settings, store, sticky, sticker=sticker)
                assert [o.status for o in first.organizations] == ["created"]
                assert [p.minted for p in first.passes] == [3]
                assert dict(first.total.quarantined) == {"unknown_customer": 2}
                # C9 arrives: its order is replayed after the read
                drop_file(h.drop, "customers_2.csv", CUSTOMER_HEADER, [
                    ["C9", phone(9), "", "", "", "", "", "", "", "001", ""]])
                second = await run_pass(h.settings, store, sticky, sticker=sticker)
                assert dict(second.total.quarantined) == {"unknown_customer": 1}
                # dlq retry of the order still waiting for C8
                waiting = await asyncio.to_thread(store.issues.find)
                retried = await run_replay(h.settings, store, sticky, waiting)
                assert dict(retried.total.quarantined) == {"unknown_customer": 1}
        finally:
            await sticker.aclose()

    try:
        with sql_on_the_loop(store) as found:
            asyncio.run(passes())
    finally:
        store.close()
    assert [e["amount_cents"] for e in admin.events(WS_DOWNTOWN)] == [500, 900]
    assert found == [], f"{len(found)} statement(s) ran on the event loop:\n" + "\n".join(
        dict.fromkeys(found))
