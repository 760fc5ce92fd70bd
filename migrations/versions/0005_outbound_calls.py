"""outbound calls: what the client asked for when placing a call, and the answering-machine verdict

Revision ID: 0005_outbound_calls
Revises: 0004_task_runs
Create Date: 2026-11-21
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_outbound_calls"
down_revision: str | None = "0004_task_runs"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("calls") as batch:
        batch.add_column(sa.Column("answered_by", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("initiation", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("calls") as batch:
        batch.drop_column("initiation")
        batch.drop_column("answered_by")
