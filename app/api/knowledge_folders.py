"""Knowledge-base folders as ElevenLabs has them: `POST /v1/convai/knowledge-base/folder`,
`POST /{document_id}/move` and `/bulk-move` (`move_to`: a folder, or null for the root);
folders are listed among documents (type `folder`, `parent_folder_id` / `ancestor_folder_id`
filters), got and deleted through the documents' own routes (`knowledge_base.py`)."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, status
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from app.api.access_info import AccessInfo, access_info
from app.api.deps import Principal, PrincipalDep, SessionDep, audit
from app.api.errors import api_error
from app.api.knowledge_shapes import (
    DocumentMetadata,
    FolderSegment,
    document_metadata,
    folder_path,
    remove_document,
)
from app.api.openapi import error_responses
from app.db import knowledge as knowledge_rows
from app.db import knowledge_folders as folder_rows
from app.db.models import KnowledgeDocument, Organization

router = APIRouter(prefix="/v1/convai/knowledge-base", tags=["knowledge base"])


class FolderRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    name: str = Field(min_length=1, max_length=500)
    parent_folder_id: str | None = None


class MoveRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    move_to: str | None = None


class BulkMoveRequest(MoveRequest):
    document_ids: list[str] = Field(min_length=1, max_length=100)


class CreatedFolder(BaseModel):
    id: str
    name: str
    folder_path: list[FolderSegment]


class FolderResponse(BaseModel):
    id: str
    name: str
    type: Literal["folder"] = "folder"
    metadata: DocumentMetadata
    supported_usages: list[str]
    access_info: AccessInfo
    folder_parent_id: str | None = None
    folder_path: list[FolderSegment] = Field(default_factory=list)
    children_count: int
    document_count: int


def _refused(error: folder_rows.FolderError) -> Exception:
    code = (
        status.HTTP_404_NOT_FOUND
        if error.reason == "no_such_document"
        else status.HTTP_422_UNPROCESSABLE_CONTENT
    )
    return api_error(code, error.reason, str(error))


def folder_in(session: Session, organization_id: str, folder_id: str) -> KnowledgeDocument:
    """The organization's folder a request names; 422 when it has none such."""
    try:
        return folder_rows.get_folder(session, organization_id, folder_id)
    except folder_rows.FolderError as error:
        raise _refused(error) from error


def folders_within(
    session: Session, organization_id: str, parent: str | None, ancestor: str | None
) -> list[str] | None:
    """The folders a listing keeps documents of: `parent`'s direct children, or everything
    under `ancestor`; None for no such filter."""
    if parent is not None:
        folder_in(session, organization_id, parent)
        return [parent]
    if ancestor is not None:
        folder_in(session, organization_id, ancestor)
        inside = folder_rows.subtree(session, organization_id, ancestor)
        return [ancestor, *(row.id for row in inside if row.type == folder_rows.FOLDER)]
    return None


def folder_response(
    session: Session, organization: Organization, folder: KnowledgeDocument
) -> FolderResponse:
    children, documents = folder_rows.counts(session, organization.id, folder.id)
    return FolderResponse(
        id=folder.id,
        name=folder.name,
        metadata=document_metadata(folder),
        supported_usages=["prompt", "auto"],
        access_info=access_info(organization),
        folder_parent_id=folder.parent_folder_id,
        folder_path=folder_path(session, folder),
        children_count=children,
        document_count=documents,
    )


def delete_folder(
    session: Session, principal: Principal, folder: KnowledgeDocument, *, force: bool
) -> None:
    """Delete an empty folder; one that holds anything only with `force`, which deletes all it
    holds (its documents taken out of the agents that use them first)."""
    organization_id = principal.organization.id
    inside = folder_rows.subtree(session, organization_id, folder.id)
    if inside and not force:
        raise api_error(
            status.HTTP_409_CONFLICT,
            "folder_not_empty",
            f"the folder holds {len(inside)} item(s); empty it first or delete with force=true",
        )
    using = knowledge_rows.agents_by_document(session, organization_id)
    for row in [*inside, folder]:
        remove_document(session, organization_id, row.id, using.get(row.id, []))
    audit(
        session,
        principal,
        "deleted",
        "knowledge_folder",
        folder.id,
        with_items=[row.id for row in inside],
    )


@router.post("/folder", response_model=CreatedFolder, responses=error_responses(422))
def create_folder(
    body: FolderRequest, principal: PrincipalDep, session: SessionDep
) -> CreatedFolder:
    """A folder, at the root or in `parent_folder_id`."""
    try:
        folder = folder_rows.create_folder(
            session, principal.organization.id, body.name, body.parent_folder_id
        )
    except folder_rows.FolderError as error:
        raise _refused(error) from error
    audit(session, principal, "created", "knowledge_folder", folder.id, name=body.name)
    return CreatedFolder(id=folder.id, name=folder.name, folder_path=folder_path(session, folder))


def _move(session: Session, principal: Principal, ids: list[str], move_to: str | None) -> None:
    try:
        folder_rows.move(session, principal.organization.id, ids, move_to)
    except folder_rows.FolderError as error:
        raise _refused(error) from error
    audit(session, principal, "moved", "knowledge_document", ",".join(ids), move_to=move_to)


@router.post("/bulk-move", responses=error_responses(404, 422))
def bulk_move(body: BulkMoveRequest, principal: PrincipalDep, session: SessionDep) -> Any:
    """Put the documents (or folders) into the folder `move_to`, or the root when null."""
    _move(session, principal, body.document_ids, body.move_to)
    return {}


@router.post("/{document_id}/move", responses=error_responses(404, 422))
def move_document(
    document_id: str, body: MoveRequest, principal: PrincipalDep, session: SessionDep
) -> Any:
    """Put the document (or folder) into the folder `move_to`, or the root when null."""
    _move(session, principal, [document_id], body.move_to)
    return {}
