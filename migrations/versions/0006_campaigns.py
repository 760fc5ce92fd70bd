"""campaigns: outbound campaigns, their leads, every dial attempt, and the do-not-call list

Revision ID: 0006_campaigns
Revises: 0005_outbound_calls
Create Date: 2026-11-21
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_campaigns"
down_revision: str | None = "0005_outbound_calls"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "do_not_call",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("organization_id", sa.String(length=64), nullable=False),
        sa.Column("phone_number", sa.String(length=32), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_do_not_call_organization_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_do_not_call")),
    )
    with op.batch_alter_table("do_not_call", schema=None) as batch_op:
        batch_op.create_index(
            "uq_do_not_call_organization_id_phone_number",
            ["organization_id", "phone_number"],
            unique=True,
        )

    op.create_table(
        "campaigns",
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("organization_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("agent_id", sa.String(length=64), nullable=False),
        sa.Column("phone_number_id", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.Column("batch", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["agent_id"], ["agents.id"], name=op.f("fk_campaigns_agent_id_agents")
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_campaigns_organization_id_organizations"),
        ),
        sa.ForeignKeyConstraint(
            ["phone_number_id"],
            ["phone_numbers.id"],
            name=op.f("fk_campaigns_phone_number_id_phone_numbers"),
        ),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_campaigns")),
        sa.UniqueConstraint("id", name=op.f("uq_campaigns_id")),
    )
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_campaigns_organization_id"), ["organization_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_campaigns_state"), ["state"], unique=False)

    op.create_table(
        "campaign_leads",
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("campaign_id", sa.String(length=64), nullable=False),
        sa.Column("organization_id", sa.String(length=64), nullable=False),
        sa.Column("phone_number", sa.String(length=32), nullable=False),
        sa.Column("time_zone", sa.String(length=64), nullable=True),
        sa.Column("variables", sa.JSON(), nullable=False),
        sa.Column("line_number", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts_made", sa.Integer(), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_outcome", sa.String(length=32), nullable=True),
        sa.Column("finished_reason", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_campaign_leads_campaign_id_campaigns"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_campaign_leads_organization_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_campaign_leads")),
        sa.UniqueConstraint("id", name=op.f("uq_campaign_leads_id")),
    )
    with op.batch_alter_table("campaign_leads", schema=None) as batch_op:
        batch_op.create_index(
            "ix_campaign_leads_campaign_id_status_due_at",
            ["campaign_id", "status", "due_at"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_campaign_leads_organization_id"), ["organization_id"], unique=False
        )

    op.create_table(
        "call_attempts",
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("campaign_id", sa.String(length=64), nullable=False),
        sa.Column("lead_id", sa.String(length=64), nullable=False),
        sa.Column("organization_id", sa.String(length=64), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("conversation_id", sa.String(length=64), nullable=False),
        sa.Column("call_sid", sa.String(length=64), nullable=True),
        sa.Column("outcome", sa.String(length=32), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("dialed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_call_attempts_campaign_id_campaigns"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["lead_id"],
            ["campaign_leads.id"],
            name=op.f("fk_call_attempts_lead_id_campaign_leads"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_call_attempts_organization_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_call_attempts")),
        sa.UniqueConstraint("conversation_id", name=op.f("uq_call_attempts_conversation_id")),
        sa.UniqueConstraint("id", name=op.f("uq_call_attempts_id")),
    )
    with op.batch_alter_table("call_attempts", schema=None) as batch_op:
        batch_op.create_index(
            "ix_call_attempts_campaign_id_status", ["campaign_id", "status"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_call_attempts_organization_id"), ["organization_id"], unique=False
        )
        batch_op.create_index("uq_call_attempts_lead_id_number", ["lead_id", "number"], unique=True)


def downgrade() -> None:

    with op.batch_alter_table("call_attempts", schema=None) as batch_op:
        batch_op.drop_index("uq_call_attempts_lead_id_number")
        batch_op.drop_index(batch_op.f("ix_call_attempts_organization_id"))
        batch_op.drop_index("ix_call_attempts_campaign_id_status")

    op.drop_table("call_attempts")
    with op.batch_alter_table("campaign_leads", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_campaign_leads_organization_id"))
        batch_op.drop_index("ix_campaign_leads_campaign_id_status_due_at")

    op.drop_table("campaign_leads")
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_campaigns_state"))
        batch_op.drop_index(batch_op.f("ix_campaigns_organization_id"))

    op.drop_table("campaigns")
    with op.batch_alter_table("do_not_call", schema=None) as batch_op:
        batch_op.drop_index("uq_do_not_call_organization_id_phone_number")

    op.drop_table("do_not_call")
