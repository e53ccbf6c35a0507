"""Fenced leases (a generation per holder, released rows kept) and the processes sending
to each Sticky workspace (one rate budget shared across processes)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05 06:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from state.schema import UTCDateTime

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("leases") as batch:
        batch.alter_column("holder", existing_type=sa.String(200), nullable=True)
        batch.add_column(sa.Column("generation", sa.Integer, nullable=False,
                                   server_default="0"))
    op.create_table(
        "senders",
        sa.Column("workspace", sa.String(64), primary_key=True),
        sa.Column("sender", sa.String(200), primary_key=True),
        sa.Column("joined_at", UTCDateTime, nullable=False),
        sa.Column("expires_at", UTCDateTime, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("senders")
    with op.batch_alter_table("leases") as batch:
        batch.drop_column("generation")
