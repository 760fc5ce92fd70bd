"""knowledge-base folders: a document's folder (folders are knowledge_documents of type
`folder`)

Revision ID: 0021_knowledge_folders
Revises: 0020_sip_trunk_configs
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021_knowledge_folders"
down_revision: str | None = "0020_sip_trunk_configs"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("knowledge_documents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("parent_folder_id", sa.String(length=64), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_knowledge_documents_parent_folder_id"), ["parent_folder_id"]
        )


def downgrade() -> None:
    op.execute("DELETE FROM knowledge_documents WHERE type = 'folder'")
    with op.batch_alter_table("knowledge_documents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_knowledge_documents_parent_folder_id"))
        batch_op.drop_column("parent_folder_id")
