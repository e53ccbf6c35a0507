"""Sticker organizations: store locations, organizations, needs-attention items

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 07:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

JSON_DOC = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "locations",
        sa.Column("tenant", sa.String(length=64), nullable=False),
        sa.Column("location_key", sa.String(length=255), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("locator", sa.String(length=300), nullable=False),
        sa.Column("payload", JSON_DOC, nullable=False),
        sa.Column("payload_hash", sa.String(length=64), nullable=False),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tenant", "location_key"),
    )
    op.create_table(
        "organizations",
        sa.Column("tenant", sa.String(length=64), nullable=False),
        sa.Column("internal_org_id", sa.String(length=255), nullable=False),
        sa.Column("organization_id", sa.String(length=100), nullable=True),
        sa.Column("stripe_customer_id", sa.String(length=100), nullable=True),
        sa.Column("name", sa.String(length=255), nullable=True),
        sa.Column("created_by_us", sa.Boolean(), nullable=True),
        sa.Column("locations", JSON_DOC, nullable=True),
        sa.Column("locations_listed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tenant"),
    )
    op.create_table(
        "attention",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("tenant", sa.String(length=64), nullable=False),
        sa.Column("scope", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("tenant", "scope", "kind", "key", name="uq_attention_item"),
    )
    op.create_index("ix_attention_open", "attention", ["tenant", "resolved_at"],
                    unique=False)


def downgrade() -> None:
    op.drop_index("ix_attention_open", table_name="attention")
    op.drop_table("attention")
    op.drop_table("organizations")
    op.drop_table("locations")
