"""sip trunk configs: a SIP-trunk number's inbound and outbound trunk configurations, and each
SIP call's messages kept with it

Revision ID: 0020_sip_trunk_configs
Revises: 0016_call_search_speed
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020_sip_trunk_configs"
down_revision: str | None = "0019_tools_and_secrets"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


SURROGATE_KEY = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("phone_numbers") as batch:
        batch.add_column(sa.Column("inbound_trunk", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("outbound_trunk", sa.JSON(), nullable=True))
    op.create_table(
        "sip_messages",
        sa.Column("id", SURROGATE_KEY, autoincrement=True, nullable=False),
        sa.Column("call_id", sa.String(length=64), nullable=False),
        sa.Column("organization_id", sa.String(length=64), nullable=False),
        sa.Column("sip_call_id", sa.String(length=255), nullable=False),
        sa.Column("direction", sa.String(length=8), nullable=False),
        sa.Column("local_address", sa.String(length=64), nullable=False),
        sa.Column("remote_address", sa.String(length=64), nullable=False),
        sa.Column("raw_message", sa.Text(), nullable=False),
        sa.Column("created_at_unix_micro", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["call_id"],
            ["calls.id"],
            name=op.f("fk_sip_messages_call_id_calls"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_sip_messages_organization_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sip_messages")),
    )
    with op.batch_alter_table("sip_messages", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sip_messages_call_id"), ["call_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_sip_messages_organization_id"), ["organization_id"], unique=False
        )


def downgrade() -> None:
    op.drop_table("sip_messages")
    with op.batch_alter_table("phone_numbers") as batch:
        batch.drop_column("outbound_trunk")
        batch.drop_column("inbound_trunk")
