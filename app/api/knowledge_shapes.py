"""What the knowledge-base routes share: a document's `metadata` and its `folder_path` (the
folders from the root down to the one it is in), in ElevenLabs' names; a document's removal."""

from __future__ import annotations

from pydantic import BaseModel
from sqlalchemy.orm import Session

from app.api.times import unix
from app.db import agents as agent_queries
from app.db import knowledge as knowledge_rows
from app.db import knowledge_folders as folder_rows
from app.db.models import Agent, KnowledgeDocument


class DocumentMetadata(BaseModel):
    created_at_unix_secs: int
    last_updated_at_unix_secs: int
    size_bytes: int


class FolderSegment(BaseModel):
    id: str
    name: str


def document_metadata(document: KnowledgeDocument) -> DocumentMetadata:
    return DocumentMetadata(
        created_at_unix_secs=unix(document.created_at),
        last_updated_at_unix_secs=unix(document.updated_at),
        size_bytes=document.size_bytes,
    )


def folder_path(session: Session, document: KnowledgeDocument) -> list[FolderSegment]:
    """The folders from the root down to the one `document` is in ([] at the root)."""
    folders = folder_rows.folder_path(session, document.organization_id, document.parent_folder_id)
    return [FolderSegment(id=folder.id, name=folder.name) for folder in folders]


def remove_document(
    session: Session, organization_id: str, document_id: str, dependents: list[Agent]
) -> None:
    """Delete the document, first taking it out of the knowledge bases of `dependents`."""
    for agent in dependents:
        config = agent_queries.agent_config(agent)
        kept = [
            locator.model_dump(mode="json")
            for locator in config.conversation_config.agent.prompt.knowledge_base
            if locator.id != document_id
        ]
        agent_queries.update_agent(
            session,
            organization_id,
            agent.id,
            {"conversation_config": {"agent": {"prompt": {"knowledge_base": kept}}}},
        )
    knowledge_rows.delete_document(session, organization_id, document_id)
