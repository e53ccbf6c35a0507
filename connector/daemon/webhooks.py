"""The daemon's webhook side: the receiver's routes, and a worker that applies stored
events (and delivers owed tier tags) whenever the receiver stored a new one, and every
``SWEEP_SECONDS`` anyway (events stored by a previous life of the daemon, write-backs
that failed for a while)."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime
from typing import Any

import structlog
from starlette.routing import Route

from connector.config import Settings
from connector.metrics import Metrics
from connector.sync.state_thread import off_loop
from connector.webhooks.processor import process_pending, write_back_sources
from connector.webhooks.receiver import Receiver
from connector.webhooks.secrets import SecretBook
from connector.webhooks.writeback import deliver_tier_tags
from state import StateStore

log = structlog.get_logger("connector.webhooks")

SWEEP_SECONDS = 60.0


class WebhookWorker:
    def __init__(self, settings: Settings, store: StateStore, metrics: Metrics) -> None:
        self.settings = settings
        self.store = store
        self.metrics = metrics
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.last_round_at: datetime | None = None
        self.last_error: str | None = None
        """What the last round could not do (a write-back stopped, a round failed)."""
        self.receiver = Receiver(settings.webhooks, store, SecretBook(settings.webhooks),
                                 settings.all_workspaces, on_stored=self._wake.set,
                                 on_outcome=metrics.webhook_received)

    def routes(self) -> list[Route]:
        return self.receiver.routes()

    def start(self) -> None:
        self._wake.set()  # apply what an earlier life stored
        self._task = asyncio.create_task(self._loop(), name="webhook worker")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _loop(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), SWEEP_SECONDS)
            self._wake.clear()
            try:
                await self.round()
            except Exception as exc:  # the worker must outlive one bad round
                self.last_error = f"{type(exc).__name__}: {exc}"
                log.error("webhook round failed", error=self.last_error, exc_info=True)
            self.last_round_at = datetime.now(UTC)

    async def round(self) -> None:
        """Apply stored events, then send owed tier tags (each on a worker thread)."""
        report = await off_loop(process_pending, self.settings, self.store)
        for outcome, n in report.outcomes.items():
            self.metrics.webhook_applied(outcome, n)
        if report.outcomes:
            log.info("webhook events applied", **dict(report.outcomes),
                     write_backs_owed=report.write_backs_owed)
        self.last_error = None
        if write_back_sources(self.settings):
            written = await off_loop(deliver_tier_tags, self.settings, self.store)
            for outcome, n in written.outcomes.items():
                self.metrics.write_back(outcome, n)
            if written.outcomes:
                log.info("tier tags written back", **dict(written.outcomes))
            self.last_error = "; ".join(written.errors) or None

    def health(self) -> dict[str, Any]:
        return {"path": self.settings.webhooks.route,
                "last_round_at": None if self.last_round_at is None
                else self.last_round_at.isoformat(timespec="seconds"),
                "last_error": self.last_error}
