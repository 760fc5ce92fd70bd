"""initial schema: organizations, API keys, agents, phone numbers, calls, turns, call events

Revision ID: 0001_initial
Revises:
Create Date: 2026-11-21
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001_initial"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# SQLite only auto-increments an INTEGER PRIMARY KEY, PostgreSQL gets a BIGSERIAL.
SURROGATE_KEY = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
PUBLIC_ID = sa.String(length=64)


def timestamp(name: str, *, nullable: bool = False) -> sa.Column[sa.DateTime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def organization_id(table: str) -> sa.Column[str]:
    return sa.Column(
        "organization_id",
        PUBLIC_ID,
        sa.ForeignKey("organizations.id", name=f"fk_{table}_organization_id_organizations"),
        nullable=False,
    )


def upgrade() -> None:
    op.create_table(
        "organizations",
        sa.Column("id", PUBLIC_ID, nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        timestamp("created_at"),
        sa.PrimaryKeyConstraint("id", name="pk_organizations"),
    )
    op.create_table(
        "api_keys",
        sa.Column("id", PUBLIC_ID, nullable=False),
        organization_id("api_keys"),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("key_prefix", sa.String(length=16), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        timestamp("created_at"),
        timestamp("last_used_at", nullable=True),
        timestamp("revoked_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_api_keys"),
        sa.UniqueConstraint("key_hash", name="uq_api_keys_key_hash"),
    )
    op.create_index("ix_api_keys_organization_id", "api_keys", ["organization_id"])

    op.create_table(
        "agents",
        sa.Column("seq", SURROGATE_KEY, autoincrement=True, nullable=False),
        sa.Column("id", PUBLIC_ID, nullable=False),
        organization_id("agents"),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("config", sa.JSON(), nullable=False),
        timestamp("created_at"),
        timestamp("updated_at"),
        timestamp("deleted_at", nullable=True),
        sa.PrimaryKeyConstraint("seq", name="pk_agents"),
        sa.UniqueConstraint("id", name="uq_agents_id"),
    )
    op.create_index("ix_agents_organization_id", "agents", ["organization_id"])

    op.create_table(
        "phone_numbers",
        sa.Column("id", PUBLIC_ID, nullable=False),
        organization_id("phone_numbers"),
        sa.Column("phone_number", sa.String(length=32), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("provider", sa.String(length=16), nullable=False),
        sa.Column(
            "agent_id",
            PUBLIC_ID,
            sa.ForeignKey("agents.id", name="fk_phone_numbers_agent_id_agents"),
            nullable=True,
        ),
        timestamp("created_at"),
        sa.PrimaryKeyConstraint("id", name="pk_phone_numbers"),
        sa.UniqueConstraint("phone_number", name="uq_phone_numbers_phone_number"),
    )
    op.create_index("ix_phone_numbers_organization_id", "phone_numbers", ["organization_id"])

    op.create_table(
        "calls",
        sa.Column("seq", SURROGATE_KEY, autoincrement=True, nullable=False),
        sa.Column("id", PUBLIC_ID, nullable=False),
        organization_id("calls"),
        sa.Column(
            "agent_id",
            PUBLIC_ID,
            sa.ForeignKey("agents.id", name="fk_calls_agent_id_agents"),
            nullable=False,
        ),
        sa.Column(
            "phone_number_id",
            PUBLIC_ID,
            sa.ForeignKey(
                "phone_numbers.id",
                name="fk_calls_phone_number_id_phone_numbers",
                ondelete="SET NULL",
            ),
            nullable=True,
        ),
        sa.Column("direction", sa.String(length=16), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("from_number", sa.String(length=64), nullable=False),
        sa.Column("to_number", sa.String(length=64), nullable=False),
        sa.Column("provider_call_sid", sa.String(length=64), nullable=True),
        sa.Column("stream_sid", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("termination_reason", sa.Text(), nullable=False),
        timestamp("started_at", nullable=True),
        timestamp("ended_at", nullable=True),
        sa.Column("duration_secs", sa.Float(), nullable=True),
        sa.Column("metrics", sa.JSON(), nullable=False),
        sa.Column("provider_status", sa.String(length=32), nullable=True),
        timestamp("created_at"),
        sa.PrimaryKeyConstraint("seq", name="pk_calls"),
        sa.UniqueConstraint("id", name="uq_calls_id"),
    )
    op.create_index("ix_calls_organization_id", "calls", ["organization_id"])
    op.create_index("ix_calls_agent_id", "calls", ["agent_id"])
    op.create_index("ix_calls_provider_call_sid", "calls", ["provider_call_sid"])

    op.create_table(
        "turns",
        sa.Column("id", SURROGATE_KEY, autoincrement=True, nullable=False),
        sa.Column(
            "call_id",
            PUBLIC_ID,
            sa.ForeignKey("calls.id", name="fk_turns_call_id_calls", ondelete="CASCADE"),
            nullable=False,
        ),
        organization_id("turns"),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("time_in_call_secs", sa.Float(), nullable=False),
        sa.Column("interrupted", sa.Boolean(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("metrics", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_turns"),
    )
    op.create_index("ix_turns_organization_id", "turns", ["organization_id"])
    op.create_index("ix_turns_call_id_position", "turns", ["call_id", "position"], unique=True)

    op.create_table(
        "call_events",
        sa.Column("id", SURROGATE_KEY, autoincrement=True, nullable=False),
        sa.Column(
            "call_id",
            PUBLIC_ID,
            sa.ForeignKey("calls.id", name="fk_call_events_call_id_calls", ondelete="CASCADE"),
            nullable=False,
        ),
        organization_id("call_events"),
        sa.Column("at_ms", sa.BigInteger(), nullable=True),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        timestamp("created_at"),
        sa.PrimaryKeyConstraint("id", name="pk_call_events"),
    )
    op.create_index("ix_call_events_organization_id", "call_events", ["organization_id"])
    op.create_index("ix_call_events_call_id", "call_events", ["call_id"])


def downgrade() -> None:
    for table in ("call_events", "turns", "calls", "phone_numbers", "agents", "api_keys"):
        op.drop_table(table)
    op.drop_table("organizations")
