"""Emulated webhook delivery: signed POSTs run as tasks on the sandbox's event loop.

:meth:`WebhookDispatcher.emit` is synchronous and only records the event and starts one task
per delivery, so an API request never waits for a receiver. Each task follows the retry
schedule of :mod:`sandbox.sticky.delivery_settings`.
"""

from __future__ import annotations

import asyncio
import contextvars
import time
from collections.abc import Coroutine, Mapping
from datetime import timedelta
from typing import Any

import httpx2

from sandbox.ids import utc_now
from sandbox.sticky.delivery_settings import MAX_ATTEMPTS, WebhookSettings
from sandbox.sticky.signing import SIGNATURE_HEADER, sign
from sandbox.sticky.store import StickyStore
from sandbox.sticky.webhook_events import (
    Attempt,
    Delivery,
    DeliveryState,
    WebhookEvent,
    new_event,
)

USER_AGENT = "Sticky-Webhooks/1.0 (sandbox)"


class WebhookDispatcher:
    """Webhook events of all workspaces, their deliveries and the settings they follow."""

    def __init__(self, store: StickyStore, settings: WebhookSettings) -> None:
        self._store = store
        self._initial = settings
        self.settings = settings
        self._events: list[WebhookEvent] = []
        self._by_id: dict[str, WebhookEvent] = {}
        self._tasks: set[asyncio.Task[None]] = set()  # strong references until done
        self._client: httpx2.AsyncClient | None = None

    def events(self, workspace: str | None = None) -> list[WebhookEvent]:
        """Events in creation order, all workspaces or just ``workspace``."""
        return [e for e in self._events if workspace is None or e.workspace == workspace]

    def get(self, event_id: str) -> WebhookEvent | None:
        return self._by_id.get(event_id)

    def update_settings(self, changes: Mapping[str, object]) -> WebhookSettings:
        """Apply a partial change (raises ``WebhookSettingError``); later waits and attempts
        use it, a wait already started keeps its length."""
        self.settings = self.settings.updated(changes)
        return self.settings

    def emit(self, workspace: str, event_type: str, data: dict[str, object]) -> WebhookEvent:
        """Record an event and start delivering it to every subscription of ``workspace``
        that lists ``event_type``. Must be called on the event loop's thread."""
        loop = asyncio.get_running_loop()
        now = utc_now()
        event = new_event(workspace, event_type, data, now)
        for data_ws in self._store.workspaces(workspace):
            for hook in data_ws.webhooks.values():
                if event_type in hook.events:
                    event.deliveries.append(Delivery(hook.id, hook.url, hook.secret, now))
        self._events.append(event)
        self._by_id[event.id] = event
        for delivery in event.deliveries:
            delivery.schedule = self._spawn(loop, self._run_schedule(event, delivery))
        return event

    async def redeliver(self, event_id: str) -> WebhookEvent | None:
        """One extra attempt (with its duplicates) to each subscription of the event, now.
        Returns once they finished; None when the event is unknown."""
        event = self._by_id.get(event_id)
        if event is None:
            return None
        loop = asyncio.get_running_loop()
        tasks = [self._spawn(loop, self._redeliver_one(event, d)) for d in event.deliveries]
        if tasks:
            await asyncio.wait(tasks)
        return event

    def reset(self, *, settings: bool = False) -> None:
        """Cancel every pending delivery and forget all events (and, with ``settings``,
        restore the start settings)."""
        for task in list(self._tasks):
            task.cancel()
        self._events.clear()
        self._by_id.clear()
        if settings:
            self.settings = self._initial

    async def aclose(self) -> None:
        """Cancel all deliveries and close the HTTP client (server shutdown)."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    def _spawn(
        self, loop: asyncio.AbstractEventLoop, work: Coroutine[Any, Any, None]
    ) -> asyncio.Task[None]:
        # a fresh context: nothing of the triggering request's context vars leaks in
        task = loop.create_task(work, context=contextvars.Context())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _run_schedule(self, event: WebhookEvent, delivery: Delivery) -> None:
        for scheduled in range(1, MAX_ATTEMPTS + 1):
            if scheduled > 1:
                delay = self.settings.delay_after(scheduled - 1)
                delivery.next_attempt_at = utc_now() + timedelta(seconds=delay)
                await asyncio.sleep(delay)
            if await self._attempt(event, delivery):
                _finish(delivery, "delivered")
                return
        _finish(delivery, "failed")

    async def _redeliver_one(self, event: WebhookEvent, delivery: Delivery) -> None:
        if await self._attempt(event, delivery):
            schedule = delivery.schedule
            if schedule is not None and not schedule.done():
                schedule.cancel()
            _finish(delivery, "delivered")

    async def _attempt(self, event: WebhookEvent, delivery: Delivery) -> bool:
        """One numbered attempt, sent ``duplicates`` times; True if any copy got a 2xx."""
        number = delivery.next_number()
        succeeded = False
        for _ in range(self.settings.duplicates):
            attempt = await self._post(event, delivery, number)
            delivery.attempts.append(attempt)
            succeeded = succeeded or attempt.succeeded
        return succeeded

    async def _post(self, event: WebhookEvent, delivery: Delivery, number: int) -> Attempt:
        timeout = self.settings.timeout_seconds
        at = utc_now()
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "Sticky-Event-Id": event.id,
            "Sticky-Workspace": event.workspace,
            "Sticky-Delivery-Attempt": str(number),
            SIGNATURE_HEADER: sign(delivery.secret, event.body, int(time.time())),
        }
        try:
            async with asyncio.timeout(timeout):
                response = await self._http().post(
                    delivery.url, content=event.body, headers=headers, timeout=timeout
                )
        except (TimeoutError, httpx2.TimeoutException):
            return Attempt(number, at, None, f"timeout after {timeout:g} s")
        except Exception as exc:  # noqa: BLE001 - any other failure is this attempt's error
            detail = str(exc)
            name = type(exc).__name__
            return Attempt(number, at, None, f"{name}: {detail}" if detail else name)
        return Attempt(number, at, response.status_code, None)

    def _http(self) -> httpx2.AsyncClient:
        if self._client is None:
            # no proxies from the environment: receivers are usually local
            self._client = httpx2.AsyncClient(trust_env=False, follow_redirects=False)
        return self._client


def _finish(delivery: Delivery, state: DeliveryState) -> None:
    delivery.state = state
    delivery.next_attempt_at = None
