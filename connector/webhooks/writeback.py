"""Delivering owed tier tags to Shopify: the ledger's pending ``customer.tag`` entries
(target ``shopify``, workspace = the source's name), one :class:`ShopifyTagWriter` call
each. An entry is settled ``sent`` only if it was not re-staged meanwhile (a newer tier
arrived while the call was in flight: it is sent again next time).

- Shopify refuses the customer (unknown, userErrors): the entry is ``rejected`` with the
  reason and not retried until the tier changes again;
- the app lacks ``write_customers``, or Shopify keeps failing: this source's write-back
  stops for now (entries stay pending, retried on the next round) and the error is
  reported.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import structlog

from adapters.shopify.client import ShopifyGraphQL
from connector.config import Settings
from connector.delivery.shopify_tags import ShopifyTagWriter, customer_gid
from connector.errors import (
    AbortRun,
    ConfigurationError,
    InvalidRecord,
    RejectedByTarget,
    Retryable,
)
from connector.webhooks.processor import TAG_KIND, WRITE_BACK_TARGET, write_back_sources
from state import StateStore

log = structlog.get_logger("connector.webhooks")


@dataclass(slots=True)
class WriteBackReport:
    outcomes: Counter[str] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)


def deliver_tier_tags(settings: Settings, store: StateStore,
                      graphql_for: type[ShopifyGraphQL] = ShopifyGraphQL) -> WriteBackReport:
    """Send every owed tier tag (blocking: run it on a worker thread)."""
    report = WriteBackReport()
    for tenant_id, source in write_back_sources(settings):
        entries = store.ledger.pending(tenant_id, WRITE_BACK_TARGET, TAG_KIND, source.name)
        if not entries:
            continue
        try:
            token = source.access_token()
            with graphql_for(source.endpoint, source.api_version, token,
                             timeout_seconds=source.timeout_seconds,
                             max_attempts=source.max_attempts) as graphql:
                writer = ShopifyTagWriter(graphql, source.tier_tag_prefix)
                for entry in entries:
                    tier = str(entry.payload.get("tier", ""))
                    try:
                        result = writer.set_tier(customer_gid(entry.key), tier)
                    except (RejectedByTarget, InvalidRecord) as exc:
                        store.ledger.mark_rejected(entry.id, str(exc), 1)
                        report.outcomes["rejected"] += 1
                        log.warning("tier tag refused", source=source.name,
                                    customer=entry.key, error=str(exc))
                        continue
                    if store.ledger.mark_sent_if_unchanged(entry, result.customer_gid, 1):
                        report.outcomes["tagged" if result.added or result.removed
                                        else "already_tagged"] += 1
                    else:
                        report.outcomes["superseded"] += 1
        except (AbortRun, Retryable) as exc:
            message = f"{tenant_id}/{source.name}: tier write-back stopped: {exc}"
            log.error("tier write-back stopped", tenant=tenant_id, source=source.name,
                      error=str(exc))
            report.errors.append(message)
        except ConfigurationError as exc:  # no token in the environment
            message = f"{tenant_id}/{source.name}: tier write-back not possible: {exc}"
            log.error("tier write-back not possible", tenant=tenant_id, source=source.name,
                      error=str(exc))
            report.errors.append(message)
    return report
