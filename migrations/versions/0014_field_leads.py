"""field leads: leads assigned to field agents, their call backs and reports; the agents a
field agent may talk to; the call-back time an analysis found

Revision ID: 0014_field_leads
Revises: 0013_call_search
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014_field_leads"
down_revision: str | None = "0013_call_search"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _fk(table: str, column: str, referred: str, ondelete: str | None) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column],
        [f"{referred}.id"],
        name=op.f(f"fk_{table}_{column}_{referred}"),
        ondelete=ondelete,
    )


def upgrade() -> None:
    with op.batch_alter_table("campaign_leads", schema=None) as batch_op:
        batch_op.add_column(sa.Column("owner_user_id", sa.String(length=64), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_campaign_leads_owner_user_id_users"),
            "users",
            ["owner_user_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.create_index(
            "ix_campaign_leads_owner_user_id_seq", ["owner_user_id", "seq"], unique=False
        )
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("agent_ids", sa.JSON(), nullable=True))
    with op.batch_alter_table("call_analyses", schema=None) as batch_op:
        batch_op.add_column(sa.Column("call_back_at", sa.DateTime(timezone=True), nullable=True))

    op.create_table(
        "lead_callbacks",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("organization_id", sa.String(length=64), nullable=False),
        sa.Column("lead_id", sa.String(length=64), nullable=False),
        sa.Column("owner_user_id", sa.String(length=64), nullable=True),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("conversation_id", sa.String(length=64), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        _fk("lead_callbacks", "organization_id", "organizations", None),
        _fk("lead_callbacks", "lead_id", "campaign_leads", "CASCADE"),
        _fk("lead_callbacks", "owner_user_id", "users", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lead_callbacks")),
    )
    with op.batch_alter_table("lead_callbacks", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_lead_callbacks_organization_id"), ["organization_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_lead_callbacks_lead_id"), ["lead_id"], unique=False)
        batch_op.create_index(
            "ix_lead_callbacks_owner_user_id_status_due_at",
            ["owner_user_id", "status", "due_at"],
            unique=False,
        )

    op.create_table(
        "lead_reports",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("organization_id", sa.String(length=64), nullable=False),
        sa.Column("lead_id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=True),
        sa.Column("outcome", sa.String(length=32), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("call_back_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("request_key", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        _fk("lead_reports", "organization_id", "organizations", None),
        _fk("lead_reports", "lead_id", "campaign_leads", "CASCADE"),
        _fk("lead_reports", "user_id", "users", "SET NULL"),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_lead_reports")),
    )
    with op.batch_alter_table("lead_reports", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_lead_reports_organization_id"), ["organization_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_lead_reports_lead_id"), ["lead_id"], unique=False)
        batch_op.create_index(
            "uq_lead_reports_user_id_request_key", ["user_id", "request_key"], unique=True
        )


def downgrade() -> None:
    op.drop_table("lead_reports")
    op.drop_table("lead_callbacks")
    # A plain DROP COLUMN (SQLite 3.35+): copying the table, as batch mode does, would trip
    # the call digests' triggers that read it.
    op.drop_column("call_analyses", "call_back_at")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("agent_ids")
    with op.batch_alter_table("campaign_leads", schema=None) as batch_op:
        batch_op.drop_index("ix_campaign_leads_owner_user_id_seq")
        batch_op.drop_constraint(
            batch_op.f("fk_campaign_leads_owner_user_id_users"), type_="foreignkey"
        )
        batch_op.drop_column("owner_user_id")
