"""Quarantine replay: record identity, replay attempts, backoff and resolution

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03 05:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("record_issues") as batch:
        batch.add_column(sa.Column("record_kind", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("record_id", sa.String(length=255), nullable=True))
        batch.add_column(sa.Column("attempts", sa.Integer(), nullable=False,
                                   server_default="0"))
        batch.add_column(sa.Column("next_retry_at", sa.DateTime(timezone=True),
                                   nullable=True))
        batch.add_column(sa.Column("resolution", sa.String(length=16), nullable=True))
    op.create_index("ix_record_issues_identity", "record_issues",
                    ["tenant", "source", "record_kind", "record_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_record_issues_identity", table_name="record_issues")
    with op.batch_alter_table("record_issues") as batch:
        for column in ("resolution", "next_retry_at", "attempts", "record_id",
                       "record_kind"):
            batch.drop_column(column)
