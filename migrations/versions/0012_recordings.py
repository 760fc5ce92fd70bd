"""recordings: a call's stereo recording and which legs it holds; reviewers' feedback

Revision ID: 0012_recordings
Revises: 0011_people
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012_recordings"
down_revision: str | None = "0011_people"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.add_column(sa.Column("recording_path", sa.String(length=500), nullable=True))
        batch_op.add_column(
            sa.Column("has_user_audio", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(
            sa.Column("has_response_audio", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("feedback", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("feedback_by", sa.String(length=400), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.drop_column("feedback_by")
        batch_op.drop_column("feedback")
        batch_op.drop_column("has_response_audio")
        batch_op.drop_column("has_user_audio")
        batch_op.drop_column("recording_path")
