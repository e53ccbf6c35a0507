"""Table definitions of the state DB (SQLAlchemy Core). Migrations in ``state/migrations``
create exactly these; ``tests/state/test_migrations.py`` checks they agree."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Dialect,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the state DB")
        return value.astimezone(UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


JSONDoc = JSON().with_variant(JSONB(), "postgresql")

metadata = MetaData()

cursors = Table(
    "cursors",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("source", String(64), primary_key=True),
    Column("stream", String(200), primary_key=True),
    Column("position", JSONDoc, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

ledger = Table(
    "ledger",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("tenant", String(64), nullable=False),
    Column("target", String(16), nullable=False),
    Column("workspace", String(100), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("key", String(255), nullable=False),
    Column("source", String(64), nullable=False),
    # For events: the customer key the event belongs to; for refunds also the order key.
    Column("subject", String(255), nullable=True),
    Column("parent_key", String(255), nullable=True),
    Column("amount_cents", BigInteger, nullable=True),
    Column("payload_hash", String(64), nullable=False),
    Column("payload", JSONDoc, nullable=False),
    Column("idempotency_key", String(80), nullable=False),
    Column("status", String(16), nullable=False),
    Column("remote_id", String(100), nullable=True),
    Column("attempts", Integer, nullable=False, default=0),
    Column("last_error", Text, nullable=True),
    Column("run_id", Integer, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("sent_at", UTCDateTime, nullable=True),
    UniqueConstraint("tenant", "target", "workspace", "kind", "key", name="uq_ledger_entry"),
    Index("ix_ledger_lookup", "tenant", "kind", "key"),
    Index("ix_ledger_parent", "tenant", "kind", "parent_key"),
    Index("ix_ledger_status", "tenant", "status"),
    Index("ix_ledger_subject", "tenant", "subject"),
)

record_issues = Table(
    "record_issues",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("tenant", String(64), nullable=False),
    Column("source", String(64), nullable=False),
    Column("stream", String(200), nullable=False),
    Column("locator", String(300), nullable=False),
    Column("row", Integer, nullable=True),
    Column("record_key", String(255), nullable=True),
    Column("disposition", String(16), nullable=False),
    Column("reason", String(64), nullable=False),
    Column("field", String(64), nullable=True),
    Column("message", Text, nullable=False),
    Column("raw", JSONDoc, nullable=False),
    Column("record", JSONDoc, nullable=True),
    Column("run_id", Integer, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("resolved_at", UTCDateTime, nullable=True),
    # What the record is and its own id (customer_id, order_id, refund_id, store_id): a
    # corrected copy read from elsewhere (another file) supersedes this issue.
    Column("record_kind", String(16), nullable=True),
    Column("record_id", String(255), nullable=True),
    # Replays of a quarantined record: how many, when the next automatic one is due.
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_retry_at", UTCDateTime, nullable=True),
    # delivered | superseded | discarded (set with resolved_at)
    Column("resolution", String(16), nullable=True),
    UniqueConstraint("tenant", "source", "stream", "locator", name="uq_record_issue"),
    Index("ix_record_issues_open", "tenant", "source", "disposition"),
    Index("ix_record_issues_identity", "tenant", "source", "record_kind", "record_id"),
)

identities = Table(
    "identities",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("customer_key", String(255), primary_key=True),
    Column("workspace", String(100), primary_key=True),
    Column("remote_id", String(100), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Index("ix_identities_remote", "workspace", "remote_id"),
)

profiles = Table(
    "profiles",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("customer_key", String(255), primary_key=True),
    Column("phone", String(20), nullable=False),
    Column("email", String(320), nullable=True),
    Column("first_name", String(100), nullable=True),
    Column("last_name", String(100), nullable=True),
    Column("store_id", String(100), nullable=True),
    Column("sms_consent", Boolean, nullable=True),
    Column("sms_consent_at", UTCDateTime, nullable=True),
    Column("sms_consent_source", String(200), nullable=True),
    Column("email_consent", Boolean, nullable=True),
    Column("email_consent_at", UTCDateTime, nullable=True),
    Column("source_updated_at", UTCDateTime, nullable=True),
    Column("updated_at", UTCDateTime, nullable=False),
    Index("ix_profiles_phone", "tenant", "phone"),
)

runs = Table(
    "runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("tenant", String(64), nullable=False),
    Column("source", String(64), nullable=False),
    Column("trigger", String(16), nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime, nullable=True),
    Column("outcome", String(16), nullable=True),
    Column("counts", JSONDoc, nullable=True),
    Column("error", Text, nullable=True),
    Index("ix_runs_source", "tenant", "source", "started_at"),
)

leases = Table(
    "leases",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("source", String(64), primary_key=True),
    Column("holder", String(200), nullable=True),  # None: released
    Column("acquired_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    # grows with every new holder: writes of an older one are refused (state/leases.py)
    Column("generation", Integer, nullable=False, server_default="0"),
)

# Processes sending to a Sticky workspace now: each paces at the cap divided by their
# number (connector/sync/budget.py); a row expires unless renewed every second.
senders = Table(
    "senders",
    metadata,
    Column("workspace", String(64), primary_key=True),
    Column("sender", String(200), primary_key=True),
    Column("joined_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
)

# Stores the sources reported (Sticker shipping locations), whichever source said so last.
locations = Table(
    "locations",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("location_key", String(255), primary_key=True),
    Column("source", String(64), nullable=False),
    Column("locator", String(300), nullable=False),
    Column("payload", JSONDoc, nullable=False),
    Column("payload_hash", String(64), nullable=False),
    Column("first_seen_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

# The tenant's Sticker organization as Sticker last described it.
organizations = Table(
    "organizations",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("internal_org_id", String(255), nullable=False),
    Column("organization_id", String(100), nullable=True),
    Column("stripe_customer_id", String(100), nullable=True),
    Column("name", String(255), nullable=True),
    Column("created_by_us", Boolean, nullable=True),
    # {internalShippingLocationId: {"id", "name", "address"}} from the last 200 response;
    # null while Sticker never listed them (only 409s seen).
    Column("locations", JSONDoc, nullable=True),
    Column("locations_listed_at", UTCDateTime, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

# Things a person must look at: the connector cannot fix them and will not retry them.
attention = Table(
    "attention",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("tenant", String(64), nullable=False),
    Column("scope", String(32), nullable=False),
    Column("kind", String(64), nullable=False),
    Column("key", String(255), nullable=False),
    Column("message", Text, nullable=False),
    Column("first_seen_at", UTCDateTime, nullable=False),
    Column("last_seen_at", UTCDateTime, nullable=False),
    Column("resolved_at", UTCDateTime, nullable=True),
    UniqueConstraint("tenant", "scope", "kind", "key", name="uq_attention_item"),
    Index("ix_attention_open", "tenant", "resolved_at"),
)

# Wallet passes minted for Sticky customers (one row per customer; re-minting replaces the
# link and bumps ``generation``). ``wanted``: to be minted by the next passes step.
passes = Table(
    "passes",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("workspace", String(100), primary_key=True),
    Column("customer_id", String(100), primary_key=True),
    Column("customer_key", String(255), nullable=True),
    # wanted | minted | installed | rejected
    Column("status", String(16), nullable=False),
    Column("reason", String(16), nullable=False),  # created | on_demand | remint
    Column("generation", Integer, nullable=False, server_default="0"),
    Column("pass_id", String(100), nullable=True),
    Column("install_url", Text, nullable=True),
    Column("apple_url", Text, nullable=True),
    Column("google_url", Text, nullable=True),
    Column("expires_at", UTCDateTime, nullable=True),
    Column("minted_at", UTCDateTime, nullable=True),
    Column("installed_at", UTCDateTime, nullable=True),
    Column("platform", String(16), nullable=True),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("last_error", Text, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Index("ix_passes_status", "tenant", "status"),
    Index("ix_passes_pass_id", "pass_id"),
)

# Webhook subscriptions made by ``webhooks subscribe``. The signing secret is never
# stored here (it lives in the webhook secrets file): only a fingerprint, to tell which
# secret a subscription was made with.
webhook_subscriptions = Table(
    "webhook_subscriptions",
    metadata,
    Column("workspace", String(100), primary_key=True),
    Column("url", Text, nullable=False),
    Column("events", JSONDoc, nullable=False),
    Column("subscription_id", String(100), nullable=True),
    Column("secret_fingerprint", String(64), nullable=True),
    Column("idempotency_key", String(80), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

# The webhook inbox: every verified event once (by workspace and event id), stored before
# the receiver answers 2xx, processed afterwards from here.
webhook_events = Table(
    "webhook_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("workspace", String(100), nullable=False),
    Column("event_id", String(100), nullable=False),
    Column("type", String(64), nullable=False),
    Column("body", JSONDoc, nullable=False),
    Column("event_created_at", UTCDateTime, nullable=True),
    Column("received_at", UTCDateTime, nullable=False),
    Column("deliveries", Integer, nullable=False, server_default="1"),
    Column("processed_at", UTCDateTime, nullable=True),
    # applied | ignored | failed
    Column("outcome", String(16), nullable=True),
    Column("detail", Text, nullable=True),
    UniqueConstraint("workspace", "event_id", name="uq_webhook_event"),
    Index("ix_webhook_events_unprocessed", "processed_at"),
)

# What Sticky told us about each of its customers (from webhooks).
loyalty = Table(
    "loyalty",
    metadata,
    Column("workspace", String(100), primary_key=True),
    Column("customer_id", String(100), primary_key=True),
    Column("tier", String(32), nullable=True),
    Column("previous_tier", String(32), nullable=True),
    Column("tier_changed_at", UTCDateTime, nullable=True),
    Column("points_balance", BigInteger, nullable=True),
    Column("last_journey", String(200), nullable=True),
    Column("last_journey_at", UTCDateTime, nullable=True),
    Column("updated_at", UTCDateTime, nullable=False),
)

# Customers a source erased (Shopify ``REDACTED``, a POS's deleted flag): salted digests
# (HMAC-SHA256 under the ``erasure_salt`` of ``state_meta``) of what identified them,
# never the values. ``kind``: ``key`` (the connector's customer key: a re-read of it is
# skipped), ``phone`` / ``email`` (to find them in the CSV files the connector keeps).
erasures = Table(
    "erasures",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("kind", String(8), primary_key=True),
    Column("digest", String(64), primary_key=True),
    Column("source", String(64), nullable=False),
    Column("erased_at", UTCDateTime, nullable=False),
    # set when the kept files must be looked through for it (again); cleared after
    Column("files_due_at", UTCDateTime, nullable=True),
    Column("files_scrubbed_at", UTCDateTime, nullable=True),
)

# Values the state DB keeps about itself (the erasure salt).
state_meta = Table(
    "state_meta",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)
