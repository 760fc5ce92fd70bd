"""tools and secrets: webhook tools, the secrets their headers carry, tool calls on turns

Revision ID: 0019_tools_and_secrets
Revises: 0017_webhook_delivery_call
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019_tools_and_secrets"
down_revision: str | None = "0018_knowledge_base"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SURROGATE = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "tools",
        sa.Column("seq", SURROGATE, autoincrement=True, nullable=False),
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("organization_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("config", sa.JSON(), nullable=False),
        sa.Column("calls_total", sa.Integer(), nullable=False),
        sa.Column("latency_secs_total", sa.Float(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_tools_organization_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_tools")),
        sa.UniqueConstraint("id", name=op.f("uq_tools_id")),
    )
    with op.batch_alter_table("tools", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_tools_organization_id"), ["organization_id"], unique=False
        )
    op.create_table(
        "secrets",
        sa.Column("seq", SURROGATE, autoincrement=True, nullable=False),
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("organization_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("encrypted_value", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_secrets_organization_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_secrets")),
        sa.UniqueConstraint("id", name=op.f("uq_secrets_id")),
    )
    with op.batch_alter_table("secrets", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_secrets_organization_id"), ["organization_id"], unique=False
        )
    with op.batch_alter_table("turns", schema=None) as batch_op:
        batch_op.add_column(sa.Column("tool_calls", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("tool_results", sa.JSON(), nullable=True))


def downgrade() -> None:
    # ALTER TABLE ... DROP COLUMN in place (SQLite 3.35+): recreating `turns` the batch way
    # fails on SQLite, whose call-search triggers (0013, 0016) name the table being renamed.
    with op.batch_alter_table("turns", schema=None, recreate="never") as batch_op:
        batch_op.drop_column("tool_results")
        batch_op.drop_column("tool_calls")
    op.drop_table("secrets")
    op.drop_table("tools")
