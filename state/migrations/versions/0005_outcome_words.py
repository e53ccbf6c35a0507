"""Run outcomes in the one vocabulary of every surface (connector/outcomes.py)

A finished run with records quarantined was ``failed`` and a run stopped by an outage
``aborted``; they are now ``needs attention`` and ``failed``.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04 18:30:00
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("UPDATE runs SET outcome = 'needs attention' WHERE outcome = 'failed'")
    op.execute("UPDATE runs SET outcome = 'failed' WHERE outcome = 'aborted'")


def downgrade() -> None:
    op.execute("UPDATE runs SET outcome = 'aborted' WHERE outcome = 'failed'")
    op.execute("UPDATE runs SET outcome = 'failed' WHERE outcome = 'needs attention'")
