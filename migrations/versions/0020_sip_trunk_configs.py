"""sip trunk configs: a SIP-trunk number's inbound and outbound trunk configurations

Revision ID: 0020_sip_trunk_configs
Revises: 0016_call_search_speed
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020_sip_trunk_configs"
down_revision: str | None = "0016_call_search_speed"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("phone_numbers") as batch:
        batch.add_column(sa.Column("inbound_trunk", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("outbound_trunk", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("phone_numbers") as batch:
        batch.drop_column("outbound_trunk")
        batch.drop_column("inbound_trunk")
