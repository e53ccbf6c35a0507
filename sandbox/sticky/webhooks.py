"""``POST /v1/webhooks``: store a subscription.

Delivery (signed POSTs with retries) is emulated by :mod:`sandbox.sticky.dispatcher`; every
subscription of a workspace whose ``events`` list an event's type gets it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import urlsplit

from sandbox.api import ApiResult
from sandbox.errors import invalid
from sandbox.ids import new_id, random_token, utc_now
from sandbox.sticky.request import StickyRequest
from sandbox.sticky.store import StickyStore, Webhook
from sandbox.sticky.views import webhook_public
from sandbox.validation import missing, reject_unknown

EVENT_NAME = re.compile(r"[a-z_]+\.[a-z_]+")
MAX_URL = 2048


def _url(data: Mapping[str, object]) -> str:
    if "url" not in data:
        raise missing("url")
    value = data["url"]
    message = "url must be an absolute http(s) URL."
    if not isinstance(value, str) or len(value) > MAX_URL:
        raise invalid("invalid_url", message, "url")
    try:
        parts = urlsplit(value)
        host = parts.hostname
    except ValueError as exc:
        raise invalid("invalid_url", message, "url") from exc
    if parts.scheme not in ("http", "https") or not host:
        raise invalid("invalid_url", message, "url")
    return value


def _events(data: Mapping[str, object]) -> list[str]:
    if "events" not in data:
        raise missing("events")
    value = data["events"]
    if not isinstance(value, list) or not value:
        raise invalid(
            "invalid_events", "events must be a non-empty array of event names.", "events"
        )
    for index, name in enumerate(value):
        if not isinstance(name, str) or EVENT_NAME.fullmatch(name) is None:
            raise invalid(
                "invalid_events",
                f"events[{index}] must be an event name like 'customer.tier_changed'.",
                f"events[{index}]",
            )
    return [str(name) for name in value]


class WebhookHandlers:
    def __init__(self, store: StickyStore) -> None:
        self._store = store

    def create(self, request: StickyRequest) -> ApiResult:
        data = request.json_object()
        reject_unknown(data, ("url", "events"))
        url = _url(data)
        events = _events(data)
        webhook = Webhook(
            workspace=request.workspace,
            id=new_id("we"),
            url=url,
            events=events,
            secret=f"whsec_{random_token(32)}",
            idempotency_key=request.idempotency_key,
            created_at=utc_now(),
        )
        self._store.workspace(request.workspace).webhooks[webhook.id] = webhook
        return ApiResult(201, webhook_public(webhook))
