"""Knowledge-base documents and chunks, organization-scoped; documents are also the indexing
work queue (claimed under a lease, app/db/leases.py)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from app.config.agent import AgentConfig
from app.db.leases import Claim, LeasedQueue, claim_next
from app.db.models import Agent, KnowledgeChunk, KnowledgeDocument, new_id, utc_now
from app.db.paging import Page, clamp_page_size, decode_cursor, encode_cursor

INDEX_QUEUE = LeasedQueue(
    model=KnowledgeDocument,
    key=KnowledgeDocument.id,
    status=KnowledgeDocument.index_status,
    attempts=KnowledgeDocument.index_attempts,
    due_at=KnowledgeDocument.index_due_at,
    held="processing",
)


def create_document(
    session: Session,
    organization_id: str,
    *,
    name: str,
    type: str,
    content: str,
    size_bytes: int,
    url: str | None = None,
    filename: str | None = None,
    parent_folder_id: str | None = None,
) -> KnowledgeDocument:
    """A new document, due for indexing now (in the folder given, already checked)."""
    now = utc_now()
    document = KnowledgeDocument(
        id=new_id("kb"),
        organization_id=organization_id,
        name=name,
        type=type,
        url=url,
        filename=filename,
        content=content,
        size_bytes=size_bytes,
        created_at=now,
        updated_at=now,
        index_status="pending",
        index_progress=0.0,
        index_attempts=0,
        index_due_at=now,
        parent_folder_id=parent_folder_id,
    )
    session.add(document)
    session.flush()
    return document


def get_document(
    session: Session, organization_id: str, document_id: str
) -> KnowledgeDocument | None:
    return session.scalar(
        select(KnowledgeDocument).where(
            KnowledgeDocument.organization_id == organization_id,
            KnowledgeDocument.id == document_id,
        )
    )


def documents_by_id(
    session: Session, organization_id: str, document_ids: Sequence[str]
) -> list[KnowledgeDocument]:
    if not document_ids:
        return []
    return list(
        session.scalars(
            select(KnowledgeDocument).where(
                KnowledgeDocument.organization_id == organization_id,
                KnowledgeDocument.id.in_(list(document_ids)),
            )
        )
    )


def list_documents(
    session: Session,
    organization_id: str,
    *,
    page_size: int = 30,
    cursor: str | None = None,
    search: str | None = None,
    types: Sequence[str] = (),
    within: Sequence[str] | None = None,
) -> Page[KnowledgeDocument]:
    """Newest first; `search` matches the start of a name (as ElevenLabs' does), `types` keeps
    only those types, `within` only those in these folders (`""`: the root)."""
    limit = clamp_page_size(page_size)
    query = select(KnowledgeDocument).where(KnowledgeDocument.organization_id == organization_id)
    if search:
        escaped = search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(KnowledgeDocument.name.ilike(f"{escaped}%", escape="\\"))
    if types:
        query = query.where(KnowledgeDocument.type.in_(list(types)))
    if within is not None:
        folders = [folder for folder in within if folder]
        in_folders = KnowledgeDocument.parent_folder_id.in_(folders)
        at_root = KnowledgeDocument.parent_folder_id.is_(None)
        query = query.where(or_(in_folders, at_root) if "" in within else in_folders)
    if cursor:
        query = query.where(KnowledgeDocument.seq < decode_cursor(cursor))
    rows = list(session.scalars(query.order_by(KnowledgeDocument.seq.desc()).limit(limit + 1)))
    if len(rows) > limit:
        return Page(items=rows[:limit], next_cursor=encode_cursor(rows[limit - 1].seq))
    return Page(items=rows, next_cursor=None)


def agents_by_document(session: Session, organization_id: str) -> dict[str, list[Agent]]:
    """For each document some live agent of the organization names in its
    `prompt.knowledge_base`, those agents."""
    using: dict[str, list[Agent]] = {}
    agents = session.scalars(
        select(Agent).where(Agent.organization_id == organization_id, Agent.deleted_at.is_(None))
    )
    for agent in agents:
        prompt = AgentConfig.model_validate(agent.config).conversation_config.agent.prompt
        for document_id in {locator.id for locator in prompt.knowledge_base}:
            using.setdefault(document_id, []).append(agent)
    return using


def dependent_agents(session: Session, organization_id: str, document_id: str) -> list[Agent]:
    """The organization's live agents whose `prompt.knowledge_base` names the document."""
    return agents_by_document(session, organization_id).get(document_id, [])


def delete_document(session: Session, organization_id: str, document_id: str) -> bool:
    document = get_document(session, organization_id, document_id)
    if document is None:
        return False
    session.execute(delete(KnowledgeChunk).where(KnowledgeChunk.document_id == document_id))
    session.delete(document)
    session.flush()
    return True


def update_document(
    session: Session,
    document: KnowledgeDocument,
    *,
    name: str | None = None,
    content: str | None = None,
    size_bytes: int | None = None,
) -> None:
    """Rename it, or give it new text (indexed again; its old passages serve until then)."""
    if name is not None:
        document.name = name
    if content is not None and content != document.content:
        document.content = content
        document.size_bytes = size_bytes if size_bytes is not None else len(content.encode())
        reindex(session, document)
    document.updated_at = utc_now()
    session.flush()


def reindex(session: Session, document: KnowledgeDocument) -> None:
    """Queue a failed document for indexing again."""
    document.index_status = "pending"
    document.index_progress = 0.0
    document.index_attempts = 0
    document.index_due_at = utc_now()
    document.index_error = None
    session.flush()


# The indexing queue


@dataclass(frozen=True)
class IndexJob:
    document_id: str
    organization_id: str
    content: str
    attempt: int


def claim_index_job(session: Session, now: datetime, lease: timedelta) -> IndexJob | None:
    """The oldest document due for indexing, held by this worker until `now + lease`."""
    claim = claim_next(session, INDEX_QUEUE, now, lease)
    if claim is None:
        return None
    document = session.scalars(
        select(KnowledgeDocument).where(KnowledgeDocument.id == claim.key)
    ).one()
    return IndexJob(document.id, document.organization_id, document.content, claim.attempt)


def report_progress(session: Session, job: IndexJob, progress: float) -> bool:
    """Store how far the job is (0..1); False if its lease has passed to another worker."""
    result = session.execute(
        update(KnowledgeDocument)
        .where(INDEX_QUEUE.held_by(job.document_id, job.attempt))
        .values(index_progress=progress)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def store_chunks(session: Session, job: IndexJob, chunks: Sequence[tuple[str, bytes]]) -> bool:
    """Replace the document's chunks with `(text, vector bytes)` and mark it indexed, if the
    job still holds it."""
    held = session.execute(
        update(KnowledgeDocument)
        .where(INDEX_QUEUE.held_by(job.document_id, job.attempt))
        .values(index_status="succeeded", index_progress=1.0, updated_at=utc_now())
    )
    if not held.rowcount:  # type: ignore[attr-defined]
        return False
    session.execute(delete(KnowledgeChunk).where(KnowledgeChunk.document_id == job.document_id))
    session.add_all(
        KnowledgeChunk(
            id=new_id("chunk"),
            document_id=job.document_id,
            organization_id=job.organization_id,
            position=position,
            text=text,
            vector=vector,
        )
        for position, (text, vector) in enumerate(chunks)
    )
    session.flush()
    return True


def fail_index_job(session: Session, job: IndexJob, error: str) -> None:
    session.execute(
        update(KnowledgeDocument)
        .where(INDEX_QUEUE.held_by(job.document_id, job.attempt))
        .values(index_status="failed", index_error=error[:2000])
    )


@dataclass(frozen=True)
class StoredChunk:
    id: str
    document_id: str
    text: str
    vector: bytes


def chunks_of(
    session: Session, organization_id: str, document_ids: Sequence[str]
) -> list[StoredChunk]:
    """The documents' chunks in document order."""
    if not document_ids:
        return []
    rows = session.execute(
        select(
            KnowledgeChunk.id,
            KnowledgeChunk.document_id,
            KnowledgeChunk.text,
            KnowledgeChunk.vector,
        )
        .where(
            KnowledgeChunk.organization_id == organization_id,
            KnowledgeChunk.document_id.in_(list(document_ids)),
        )
        .order_by(KnowledgeChunk.document_id, KnowledgeChunk.position)
    )
    return [StoredChunk(row.id, row.document_id, row.text, bytes(row.vector)) for row in rows]


def index_version(session: Session, organization_id: str, document_ids: Sequence[str]) -> str:
    """What changes when any of the documents is indexed again or deleted (a cache's key)."""
    if not document_ids:
        return ""
    row = session.execute(
        select(func.count(), func.max(KnowledgeDocument.updated_at)).where(
            KnowledgeDocument.organization_id == organization_id,
            KnowledgeDocument.id.in_(list(document_ids)),
            KnowledgeDocument.index_status == "succeeded",
        )
    ).one()
    return f"{row[0]}:{row[1].isoformat() if row[1] else ''}"


__all__ = ["Claim", "IndexJob", "StoredChunk"]
