"""queued sip dials: an index on the calls a campaign queued for a SIP node to place

Revision ID: 0022_queued_sip_dials
Revises: 0021_knowledge_folders
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022_queued_sip_dials"
down_revision: str | None = "0021_knowledge_folders"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

QUEUED = sa.text("provider_status = 'queued'")


def upgrade() -> None:
    op.create_index(
        "ix_calls_queued_dials",
        "calls",
        ["created_at"],
        unique=False,
        postgresql_where=QUEUED,
        sqlite_where=QUEUED,
    )


def downgrade() -> None:
    op.drop_index("ix_calls_queued_dials", table_name="calls")
