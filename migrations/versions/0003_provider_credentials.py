"""provider credentials: organizations' cloud provider keys, encrypted at rest

Revision ID: 0003_provider_credentials
Revises: 0002_used_conversation_tokens
Create Date: 2026-11-21
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_provider_credentials"
down_revision: str | None = "0002_used_conversation_tokens"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "provider_credentials",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("organization_id", sa.String(length=64), nullable=False),
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("encrypted_api_key", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_provider_credentials_organization_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_provider_credentials")),
    )
    op.create_index(
        op.f("ix_provider_credentials_organization_id"),
        "provider_credentials",
        ["organization_id"],
    )
    op.create_index(
        "uq_provider_credentials_organization_id_provider",
        "provider_credentials",
        ["organization_id", "provider"],
        unique=True,
    )


def downgrade() -> None:
    op.drop_index("uq_provider_credentials_organization_id_provider", "provider_credentials")
    op.drop_index(op.f("ix_provider_credentials_organization_id"), "provider_credentials")
    op.drop_table("provider_credentials")
