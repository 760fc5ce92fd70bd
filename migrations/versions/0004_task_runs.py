"""task runs: idempotency keys of worker tasks, so a redelivered task never repeats its work

Revision ID: 0004_task_runs
Revises: 0003_provider_credentials
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_task_runs"
down_revision: str | None = "0003_provider_credentials"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "task_runs",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("task_name", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_task_runs")),
    )
    op.create_index(op.f("ix_task_runs_finished_at"), "task_runs", ["finished_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_task_runs_finished_at"), table_name="task_runs")
    op.drop_table("task_runs")
