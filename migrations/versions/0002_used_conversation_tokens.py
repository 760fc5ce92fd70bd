"""used conversation tokens: signed conversation URLs are single-use

Revision ID: 0002_used_conversation_tokens
Revises: 0001_initial
Create Date: 2026-11-21
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_used_conversation_tokens"
down_revision: str | None = "0001_initial"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "used_conversation_tokens",
        sa.Column("token_id", sa.String(length=64), nullable=False),
        sa.Column("organization_id", sa.String(length=64), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_used_conversation_tokens_organization_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("token_id", name=op.f("pk_used_conversation_tokens")),
    )
    op.create_index(
        op.f("ix_used_conversation_tokens_organization_id"),
        "used_conversation_tokens",
        ["organization_id"],
    )
    op.create_index(
        op.f("ix_used_conversation_tokens_expires_at"), "used_conversation_tokens", ["expires_at"]
    )


def downgrade() -> None:
    op.drop_index(
        op.f("ix_used_conversation_tokens_expires_at"), table_name="used_conversation_tokens"
    )
    op.drop_index(
        op.f("ix_used_conversation_tokens_organization_id"), table_name="used_conversation_tokens"
    )
    op.drop_table("used_conversation_tokens")
