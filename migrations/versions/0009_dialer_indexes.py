"""dialer: the claim query's index reads leads in order; claims remember when their dial task
was sent

Revision ID: 0009_dialer_indexes
Revises: 0008_call_analyses
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_dialer_indexes"
down_revision: str | None = "0008_call_analyses"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("campaign_leads", schema=None) as batch_op:
        batch_op.drop_index("ix_campaign_leads_campaign_id_status_due_at")
        batch_op.create_index(
            "ix_campaign_leads_campaign_id_status_due_at_seq",
            ["campaign_id", "status", "due_at", "seq"],
            unique=False,
        )
    with op.batch_alter_table("call_attempts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(
            "ix_call_attempts_status_claimed_at", ["status", "claimed_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("call_attempts", schema=None) as batch_op:
        batch_op.drop_index("ix_call_attempts_status_claimed_at")
        batch_op.drop_column("sent_at")
    with op.batch_alter_table("campaign_leads", schema=None) as batch_op:
        batch_op.drop_index("ix_campaign_leads_campaign_id_status_due_at_seq")
        batch_op.create_index(
            "ix_campaign_leads_campaign_id_status_due_at",
            ["campaign_id", "status", "due_at"],
            unique=False,
        )
