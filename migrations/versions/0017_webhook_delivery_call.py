"""webhook delivery call: each delivery names the call it is about, for the call page

Revision ID: 0017_webhook_delivery_call
Revises: 0016_call_search_speed
Create Date: 2026-12-06

A delivery carried its call only inside its JSON payload (`data.conversation_id`), so the call
page could not find a call's deliveries without reading every payload of the organization.
`conversation_id` is now a column with an index, filled from the payload for the rows stored
before (events about no call, such as `campaign_completed`, keep none).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017_webhook_delivery_call"
down_revision: str | None = "0016_call_search_speed"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BACKFILL = {
    "postgresql": (
        "UPDATE webhook_deliveries SET conversation_id = payload -> 'data' ->> 'conversation_id' "
        "WHERE json_typeof(payload -> 'data' -> 'conversation_id') = 'string' "
        "AND length(payload -> 'data' ->> 'conversation_id') <= 64"
    ),
    "sqlite": (
        "UPDATE webhook_deliveries "
        "SET conversation_id = json_extract(payload, '$.data.conversation_id') "
        "WHERE json_type(payload, '$.data.conversation_id') = 'text' "
        "AND length(json_extract(payload, '$.data.conversation_id')) <= 64"
    ),
}


def upgrade() -> None:
    with op.batch_alter_table("webhook_deliveries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("conversation_id", sa.String(length=64), nullable=True))
        batch_op.create_index(
            "ix_webhook_deliveries_conversation_id", ["conversation_id"], unique=False
        )
    op.execute(BACKFILL[op.get_bind().dialect.name])


def downgrade() -> None:
    with op.batch_alter_table("webhook_deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_webhook_deliveries_conversation_id")
        batch_op.drop_column("conversation_id")
