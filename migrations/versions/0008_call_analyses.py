"""call analyses: the post-call analysis of every stored call, queued with it

Revision ID: 0008_call_analyses
Revises: 0007_webhooks
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_call_analyses"
down_revision: str | None = "0007_webhooks"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "call_analyses",
        sa.Column("call_id", sa.String(length=64), nullable=False),
        sa.Column("organization_id", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("sentiment", sa.String(length=16), nullable=True),
        sa.Column("outcome", sa.String(length=32), nullable=True),
        sa.Column("call_successful", sa.String(length=16), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("criteria", sa.JSON(), nullable=False),
        sa.Column("metrics", sa.JSON(), nullable=False),
        sa.Column("analyzed_by", sa.String(length=64), nullable=False),
        sa.Column("notes", sa.JSON(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["call_id"],
            ["calls.id"],
            name=op.f("fk_call_analyses_call_id_calls"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_call_analyses_organization_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("call_id", name=op.f("pk_call_analyses")),
    )
    with op.batch_alter_table("call_analyses", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_call_analyses_organization_id"), ["organization_id"], unique=False
        )
        batch_op.create_index("ix_call_analyses_status_due_at", ["status", "due_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("call_analyses", schema=None) as batch_op:
        batch_op.drop_index("ix_call_analyses_status_due_at")
        batch_op.drop_index(batch_op.f("ix_call_analyses_organization_id"))
    op.drop_table("call_analyses")
