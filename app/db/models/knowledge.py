"""Knowledge bases: an organization's documents, their chunks and the chunks' vectors."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db.models.base import Base, SurrogateKey, utc_now


class KnowledgeDocument(Base):
    """One document: its source (text, a URL, a file), the text extracted from it, and its
    index's progress (`pending` → `processing` → `succeeded` or `failed`), a leased work queue.
    A folder is a row of type `folder` (no text, index status `none`, never queued)."""

    __tablename__ = "knowledge_documents"
    __table_args__ = (Index(None, "index_status", "index_due_at"),)

    seq: Mapped[int] = mapped_column(SurrogateKey, primary_key=True)
    id: Mapped[str] = mapped_column(String(64), unique=True)
    organization_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"), index=True)
    name: Mapped[str] = mapped_column(String(500))
    type: Mapped[str] = mapped_column(String(8))  # text | url | file
    url: Mapped[str | None] = mapped_column(String(2000), default=None)
    filename: Mapped[str | None] = mapped_column(String(500), default=None)
    content: Mapped[str] = mapped_column(Text)
    size_bytes: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(default=utc_now)
    index_status: Mapped[str] = mapped_column(String(16), default="pending")
    index_progress: Mapped[float] = mapped_column(Float, default=0.0)
    index_attempts: Mapped[int] = mapped_column(Integer, default=0)
    index_due_at: Mapped[datetime] = mapped_column(default=utc_now)
    index_error: Mapped[str | None] = mapped_column(String(2000), default=None)
    # The folder it is in (a row of type `folder` of this table); None at the root.
    parent_folder_id: Mapped[str | None] = mapped_column(String(64), index=True, default=None)


class KnowledgeChunk(Base):
    """A passage of a document (overlapping its neighbours) and its embedding: 384 float32,
    little-endian, as bytes."""

    __tablename__ = "knowledge_chunks"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    document_id: Mapped[str] = mapped_column(
        ForeignKey("knowledge_documents.id", ondelete="CASCADE"), index=True
    )
    organization_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    vector: Mapped[bytes] = mapped_column(LargeBinary)
