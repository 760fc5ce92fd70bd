"""Knowledge-base folders, organization-scoped: a folder is a `knowledge_documents` row of type
`folder` (as ElevenLabs lists folders among documents); any row may sit in one
(`parent_folder_id`), folders in folders."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from app.db.models import KnowledgeDocument, new_id, utc_now

FOLDER = "folder"
# Folders within folders, at most this deep (a path's walk is bounded by it too).
MAX_DEPTH = 20


class FolderError(ValueError):
    """A folder operation that cannot be done; `reason` is machine-readable."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def get_folder(session: Session, organization_id: str, folder_id: str) -> KnowledgeDocument:
    """The organization's folder; `FolderError` (`no_such_folder`) if it has none such."""
    folder = session.scalar(
        select(KnowledgeDocument).where(
            KnowledgeDocument.organization_id == organization_id,
            KnowledgeDocument.id == folder_id,
            KnowledgeDocument.type == FOLDER,
        )
    )
    if folder is None:
        raise FolderError("no_such_folder", f"there is no folder {folder_id!r}")
    return folder


def create_folder(
    session: Session, organization_id: str, name: str, parent_folder_id: str | None
) -> KnowledgeDocument:
    if parent_folder_id is not None:
        get_folder(session, organization_id, parent_folder_id)
        if len(folder_path(session, organization_id, parent_folder_id)) + 1 >= MAX_DEPTH:
            raise FolderError("too_deep", f"folders nest at most {MAX_DEPTH} deep")
    now = utc_now()
    folder = KnowledgeDocument(
        id=new_id("kbf"),
        organization_id=organization_id,
        name=name,
        type=FOLDER,
        content="",
        size_bytes=0,
        created_at=now,
        updated_at=now,
        index_status="none",
        index_progress=0.0,
        index_attempts=0,
        index_due_at=now,
        parent_folder_id=parent_folder_id,
    )
    session.add(folder)
    session.flush()
    return folder


def folder_path(
    session: Session, organization_id: str, folder_id: str | None
) -> list[KnowledgeDocument]:
    """The folders from the root down to `folder_id` (itself last); [] at the root."""
    path: list[KnowledgeDocument] = []
    while folder_id is not None and len(path) < MAX_DEPTH:
        folder = session.scalar(
            select(KnowledgeDocument).where(
                KnowledgeDocument.organization_id == organization_id,
                KnowledgeDocument.id == folder_id,
            )
        )
        if folder is None or any(f.id == folder.id for f in path):
            break
        path.insert(0, folder)
        folder_id = folder.parent_folder_id
    return path


def subtree(session: Session, organization_id: str, folder_id: str) -> list[KnowledgeDocument]:
    """Everything inside the folder, at any depth (not the folder itself)."""
    found: list[KnowledgeDocument] = []
    level = [folder_id]
    for _ in range(MAX_DEPTH):
        if not level:
            break
        rows = list(
            session.scalars(
                select(KnowledgeDocument).where(
                    KnowledgeDocument.organization_id == organization_id,
                    KnowledgeDocument.parent_folder_id.in_(level),
                )
            )
        )
        found.extend(rows)
        level = [row.id for row in rows if row.type == FOLDER]
    return found


def counts(session: Session, organization_id: str, folder_id: str) -> tuple[int, int]:
    """(children, documents): the folder's direct children, and the documents (not folders)
    anywhere inside it."""
    children = session.scalar(
        select(func.count())
        .select_from(KnowledgeDocument)
        .where(
            KnowledgeDocument.organization_id == organization_id,
            KnowledgeDocument.parent_folder_id == folder_id,
        )
    )
    documents = sum(1 for row in subtree(session, organization_id, folder_id) if row.type != FOLDER)
    return int(children or 0), documents


def move(
    session: Session, organization_id: str, document_ids: Sequence[str], move_to: str | None
) -> None:
    """Put the documents (or folders) into `move_to` (None: the root). `FolderError` when one
    is not the organization's, or a folder would go into itself or a folder inside it."""
    if move_to is not None:
        get_folder(session, organization_id, move_to)
        above = {folder.id for folder in folder_path(session, organization_id, move_to)}
    else:
        above = set()
    rows = list(
        session.scalars(
            select(KnowledgeDocument).where(
                KnowledgeDocument.organization_id == organization_id,
                KnowledgeDocument.id.in_(list(document_ids)),
            )
        )
    )
    missing = set(document_ids) - {row.id for row in rows}
    if missing:
        raise FolderError("no_such_document", f"no such document: {', '.join(sorted(missing))}")
    for row in rows:
        if row.type == FOLDER and row.id in above:
            raise FolderError("into_itself", f"the folder {row.id!r} cannot go inside itself")
    session.execute(
        update(KnowledgeDocument)
        .where(
            KnowledgeDocument.organization_id == organization_id,
            KnowledgeDocument.id.in_([row.id for row in rows]),
        )
        .values(parent_folder_id=move_to, updated_at=utc_now())
    )
    session.flush()


def documents_in(session: Session, organization_id: str, ids: Sequence[str]) -> list[str]:
    """`ids` with each folder replaced by the documents anywhere inside it (an agent's
    `knowledge_base` may name folders), in order, each once; ids not found are dropped."""
    if not ids:
        return []
    rows = {
        row.id: row
        for row in session.scalars(
            select(KnowledgeDocument).where(
                KnowledgeDocument.organization_id == organization_id,
                KnowledgeDocument.id.in_(list(ids)),
            )
        )
    }
    found: list[str] = []
    for document_id in ids:
        row = rows.get(document_id)
        if row is None:
            continue
        if row.type != FOLDER:
            found.append(row.id)
            continue
        inside = subtree(session, organization_id, row.id)
        found.extend(item.id for item in inside if item.type != FOLDER)
    return list(dict.fromkeys(found))
