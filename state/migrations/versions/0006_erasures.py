"""Erased customers (salted digests only) and the state DB's own values (the salt)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04 19:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from state.schema import UTCDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "erasures",
        sa.Column("tenant", sa.String(64), primary_key=True),
        sa.Column("kind", sa.String(8), primary_key=True),
        sa.Column("digest", sa.String(64), primary_key=True),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("erased_at", UTCDateTime, nullable=False),
        sa.Column("files_due_at", UTCDateTime, nullable=True),
        sa.Column("files_scrubbed_at", UTCDateTime, nullable=True),
    )
    op.create_index("ix_ledger_subject", "ledger", ["tenant", "subject"])
    op.create_table(
        "state_meta",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("state_meta")
    op.drop_index("ix_ledger_subject", table_name="ledger")
    op.drop_table("erasures")
