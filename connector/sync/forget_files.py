"""After a tenant's sources: erased customers' rows leave the files the connector keeps
(every CSV drop of the tenant: an erasure read from Shopify also scrubs the POS exports
kept in ``processed/``). Runs while an erasure has not been looked for in the files yet,
or when a kept file may hold a re-read of an erased customer (docs/privacy.md)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import structlog

from connector.config import CsvSourceSettings, TenantSettings
from connector.erasure import ErasureMatcher
from connector.sources import build_adapter
from connector.sync.state_thread import off_loop
from connector.sync.summary import RunSummary
from state import StateStore
from state.erasures import Digests

log = structlog.get_logger("connector.erasure")


async def forget_in_files(tenant: TenantSettings, store: StateStore,
                          total: RunSummary) -> None:
    if await off_loop(store.erasures.files_pending, tenant.id) is None:
        return
    # a purge whose run died before it settled the storage is settled now
    await off_loop(store.erasures.settle_storage)
    started = datetime.now(UTC)
    digests = await off_loop(store.erasures.digests, tenant.id)
    matcher = ErasureMatcher(store.erasures.digest, tenant.phone_region)
    sources = [s for s in tenant.sources if isinstance(s, CsvSourceSettings)]
    unreadable = await off_loop(_scrub, sources, matcher, digests, tenant, total)
    for where in unreadable:
        total.attention.append(
            f"{where} could not be read to remove erased customers from it: look through "
            "it (or delete it) by hand")
    if not unreadable:
        # an erasure recorded meanwhile (another source's job) waits for the next look
        await off_loop(store.erasures.mark_files_scrubbed, tenant.id, started)


def _scrub(sources: Sequence[CsvSourceSettings], matcher: ErasureMatcher, digests: Digests,
           tenant: TenantSettings, total: RunSummary) -> list[str]:
    unreadable: list[str] = []
    for source in sources:
        adapter = build_adapter(source, tenant)

        def erased_row(cells: Sequence[str], id_column: int | None,
                       space: str = source.name) -> bool:
            return matcher.row(cells, digests, id_column=id_column, space=space)

        done = adapter.forget(erased_row)
        if done is None:
            continue
        if done.files:
            log.info("erased customers removed from kept files", source=source.name,
                     files=len(done.files), rows=done.rows)
            total.erased_rows_removed += done.rows
        unreadable += [f"{source.name}: {where}" for where in done.unreadable]
    return unreadable
