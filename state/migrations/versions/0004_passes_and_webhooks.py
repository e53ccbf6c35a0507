"""Wallet passes, webhook subscriptions, the webhook inbox and loyalty facts

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03 07:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

JSON_DOC = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
WHEN = sa.DateTime(timezone=True)

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # webhooks name Sticky customers: find the source customers behind one
    op.create_index("ix_identities_remote", "identities", ["workspace", "remote_id"],
                    unique=False)
    op.create_table(
        "passes",
        sa.Column("tenant", sa.String(length=64), nullable=False),
        sa.Column("workspace", sa.String(length=100), nullable=False),
        sa.Column("customer_id", sa.String(length=100), nullable=False),
        sa.Column("customer_key", sa.String(length=255), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=16), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("pass_id", sa.String(length=100), nullable=True),
        sa.Column("install_url", sa.Text(), nullable=True),
        sa.Column("apple_url", sa.Text(), nullable=True),
        sa.Column("google_url", sa.Text(), nullable=True),
        sa.Column("expires_at", WHEN, nullable=True),
        sa.Column("minted_at", WHEN, nullable=True),
        sa.Column("installed_at", WHEN, nullable=True),
        sa.Column("platform", sa.String(length=16), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("tenant", "workspace", "customer_id"),
    )
    op.create_index("ix_passes_status", "passes", ["tenant", "status"], unique=False)
    op.create_index("ix_passes_pass_id", "passes", ["pass_id"], unique=False)
    op.create_table(
        "webhook_subscriptions",
        sa.Column("workspace", sa.String(length=100), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("events", JSON_DOC, nullable=False),
        sa.Column("subscription_id", sa.String(length=100), nullable=True),
        sa.Column("secret_fingerprint", sa.String(length=64), nullable=True),
        sa.Column("idempotency_key", sa.String(length=80), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("workspace"),
    )
    op.create_table(
        "webhook_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("workspace", sa.String(length=100), nullable=False),
        sa.Column("event_id", sa.String(length=100), nullable=False),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("body", JSON_DOC, nullable=False),
        sa.Column("event_created_at", WHEN, nullable=True),
        sa.Column("received_at", WHEN, nullable=False),
        sa.Column("deliveries", sa.Integer(), nullable=False, server_default="1"),
        sa.Column("processed_at", WHEN, nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("workspace", "event_id", name="uq_webhook_event"),
    )
    op.create_index("ix_webhook_events_unprocessed", "webhook_events", ["processed_at"],
                    unique=False)
    op.create_table(
        "loyalty",
        sa.Column("workspace", sa.String(length=100), nullable=False),
        sa.Column("customer_id", sa.String(length=100), nullable=False),
        sa.Column("tier", sa.String(length=32), nullable=True),
        sa.Column("previous_tier", sa.String(length=32), nullable=True),
        sa.Column("tier_changed_at", WHEN, nullable=True),
        sa.Column("points_balance", sa.BigInteger(), nullable=True),
        sa.Column("last_journey", sa.String(length=200), nullable=True),
        sa.Column("last_journey_at", WHEN, nullable=True),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("workspace", "customer_id"),
    )


def downgrade() -> None:
    op.drop_table("loyalty")
    op.drop_index("ix_webhook_events_unprocessed", table_name="webhook_events")
    op.drop_table("webhook_events")
    op.drop_table("webhook_subscriptions")
    op.drop_index("ix_passes_pass_id", table_name="passes")
    op.drop_index("ix_passes_status", table_name="passes")
    op.drop_table("passes")
    op.drop_index("ix_identities_remote", table_name="identities")
