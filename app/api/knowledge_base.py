"""ElevenLabs-compatible knowledge-base endpoints under ``/v1/convai/knowledge-base``:
documents from text, a URL or a file; list, get, content, delete; their RAG index's status."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, status
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, ConfigDict, Field

from app.api.access_info import AccessInfo, access_info
from app.api.deps import OrganizationDep, PrincipalDep, SessionDep, audit
from app.api.errors import api_error, not_found
from app.api.knowledge_folders import (
    FolderResponse,
    delete_folder,
    folder_response,
    folders_within,
)
from app.api.knowledge_intake import unreadable
from app.api.knowledge_shapes import (
    DocumentMetadata,
    FolderSegment,
    document_metadata,
    folder_path,
    remove_document,
)
from app.api.openapi import error_responses
from app.api.times import unix
from app.db import knowledge as knowledge_rows
from app.db import knowledge_folders as folder_rows
from app.db.models import Agent, KnowledgeDocument, Organization
from app.db.paging import InvalidCursorError
from app.knowledge import intake
from app.knowledge.extraction import UnreadableDocumentError

router = APIRouter(prefix="/v1/convai/knowledge-base", tags=["knowledge base"])

DocumentType = Literal["file", "url", "text", "folder"]
EMBEDDING_MODEL = "all_minilm_l6_v2"
INDEX_STATUS = {
    "pending": "created",
    "processing": "processing",
    "succeeded": "succeeded",
    "failed": "failed",
}


class DocumentUpdateRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    name: str | None = Field(default=None, min_length=1, max_length=500)
    # New text for the document (indexed again); any document type, as its extracted text.
    content: str | None = Field(default=None, min_length=1)


class DependentAgent(BaseModel):
    type: Literal["available"] = "available"
    id: str
    name: str
    created_at_unix_secs: int
    access_level: str = "admin"


class DocumentSummary(BaseModel):
    id: str
    name: str
    type: DocumentType
    metadata: DocumentMetadata
    supported_usages: list[str]
    access_info: AccessInfo
    folder_parent_id: str | None = None
    folder_path: list[FolderSegment] = Field(default_factory=list)
    dependent_agents: list[DependentAgent]
    url: str | None = None
    filename: str | None = None
    # A folder's: its direct children, and the documents anywhere inside it.
    children_count: int | None = None
    document_count: int | None = None


class DocumentsPage(BaseModel):
    documents: list[DocumentSummary]
    next_cursor: str | None
    has_more: bool


class DocumentResponse(BaseModel):
    id: str
    name: str
    type: DocumentType
    metadata: DocumentMetadata
    supported_usages: list[str]
    access_info: AccessInfo
    folder_parent_id: str | None = None
    folder_path: list[FolderSegment] = Field(default_factory=list)
    # The extracted text (Velox keeps text, not HTML), as ElevenLabs' field names it.
    extracted_inner_html: str
    content_format: Literal["markdown"] = "markdown"
    url: str | None = None
    filename: str | None = None


class RagIndexRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    # ElevenLabs' embedding model names are accepted; Velox indexes with all-MiniLM-L6-v2.
    model: str = EMBEDDING_MODEL


class IndexUsage(BaseModel):
    used_bytes: int


class RagIndex(BaseModel):
    id: str
    model: str
    status: str
    progress_percentage: float
    document_model_index_usage: IndexUsage
    # Why indexing failed (Velox's own field), null otherwise.
    error: str | None = None


class RagIndexes(BaseModel):
    indexes: list[RagIndex]


@router.get("", response_model=DocumentsPage)
def list_documents(
    organization: OrganizationDep,
    session: SessionDep,
    page_size: Annotated[int, Query(ge=1, le=100)] = 30,
    cursor: str | None = None,
    search: str | None = None,
    types: Annotated[list[DocumentType] | None, Query()] = None,
    parent_folder_id: str | None = None,
    ancestor_folder_id: str | None = None,
) -> DocumentsPage:
    """The organization's documents and folders, newest first, in pages linked by
    ``next_cursor``; only a folder's direct children with ``parent_folder_id``, everything
    inside it with ``ancestor_folder_id``."""
    within = folders_within(session, organization.id, parent_folder_id, ancestor_folder_id)
    try:
        page = knowledge_rows.list_documents(
            session,
            organization.id,
            page_size=page_size,
            cursor=cursor,
            search=search,
            types=types or (),
            within=within,
        )
    except InvalidCursorError as error:
        raise api_error(
            status.HTTP_422_UNPROCESSABLE_CONTENT, "invalid_cursor", str(error)
        ) from error
    using = knowledge_rows.agents_by_document(session, organization.id)
    return DocumentsPage(
        documents=[_summary(session, organization, document, using) for document in page.items],
        next_cursor=page.next_cursor,
        has_more=page.has_more,
    )


def _dependents(agents: list[Agent]) -> list[DependentAgent]:
    return [
        DependentAgent(id=agent.id, name=agent.name, created_at_unix_secs=unix(agent.created_at))
        for agent in agents
    ]


def _summary(
    session: SessionDep,
    organization: Organization,
    document: KnowledgeDocument,
    using: dict[str, list[Agent]],
) -> DocumentSummary:
    counts = (
        folder_rows.counts(session, organization.id, document.id)
        if document.type == folder_rows.FOLDER
        else (None, None)
    )
    return DocumentSummary(
        folder_parent_id=document.parent_folder_id,
        folder_path=folder_path(session, document),
        children_count=counts[0],
        document_count=counts[1],
        id=document.id,
        name=document.name,
        type=document.type,
        metadata=document_metadata(document),
        supported_usages=["prompt", "auto"],
        access_info=access_info(organization),
        dependent_agents=_dependents(using.get(document.id, [])),
        url=document.url,
        filename=document.filename,
    )


def _document(
    session: SessionDep, organization: Organization, document_id: str, *, folder: bool = False
) -> KnowledgeDocument:
    """The organization's document (or folder, where `folder` allows one); 404 otherwise."""
    document = knowledge_rows.get_document(session, organization.id, document_id)
    if document is None or (document.type == folder_rows.FOLDER and not folder):
        raise not_found("knowledge base document", document_id)
    return document


@router.get("/{documentation_id}", response_model=DocumentResponse | FolderResponse)
def get_document(
    documentation_id: str, organization: OrganizationDep, session: SessionDep
) -> DocumentResponse | FolderResponse:
    """The document with the text extracted from it, or the folder with what it holds."""
    document = _document(session, organization, documentation_id, folder=True)
    if document.type == folder_rows.FOLDER:
        return folder_response(session, organization, document)
    return _document_response(session, organization, document)


@router.patch(
    "/{documentation_id}",
    response_model=DocumentResponse | FolderResponse,
    responses=error_responses(422),
)
def update_document(
    documentation_id: str,
    body: DocumentUpdateRequest,
    principal: PrincipalDep,
    session: SessionDep,
) -> DocumentResponse | FolderResponse:
    """Rename the document or folder, or replace a document's text (indexed again)."""
    organization = principal.organization
    document = _document(session, organization, documentation_id, folder=body.content is None)
    extracted = None
    if body.content is not None:
        try:
            extracted = intake.from_text(body.content)
        except UnreadableDocumentError as error:
            raise unreadable(error) from error
    knowledge_rows.update_document(
        session,
        document,
        name=body.name,
        content=extracted.content if extracted else None,
        size_bytes=extracted.size_bytes if extracted else None,
    )
    audit(
        session,
        principal,
        "changed",
        "knowledge_document",
        documentation_id,
        fields=sorted(body.model_dump(exclude_none=True)),
    )
    if document.type == folder_rows.FOLDER:
        return folder_response(session, organization, document)
    return _document_response(session, organization, document)


def _document_response(
    session: SessionDep, organization: Organization, document: KnowledgeDocument
) -> DocumentResponse:
    return DocumentResponse(
        folder_parent_id=document.parent_folder_id,
        folder_path=folder_path(session, document),
        id=document.id,
        name=document.name,
        type=document.type,
        metadata=document_metadata(document),
        supported_usages=["prompt", "auto"],
        access_info=access_info(organization),
        extracted_inner_html=document.content,
        url=document.url,
        filename=document.filename,
    )


@router.get("/{documentation_id}/content", response_class=PlainTextResponse)
def get_content(
    documentation_id: str, organization: OrganizationDep, session: SessionDep
) -> PlainTextResponse:
    """The document's extracted text alone."""
    return PlainTextResponse(_document(session, organization, documentation_id).content)


@router.delete("/{documentation_id}", responses=error_responses(409))
def delete_document(
    documentation_id: str,
    principal: PrincipalDep,
    session: SessionDep,
    force: bool = False,
) -> dict[str, Any]:
    """Delete the document; refused (409) while an agent uses it, unless ``force``, which also
    takes it out of those agents' knowledge bases. A folder: refused (409) while it holds
    anything, unless ``force``, which deletes all it holds."""
    organization = principal.organization
    document = _document(session, organization, documentation_id, folder=True)
    if document.type == folder_rows.FOLDER:
        delete_folder(session, principal, document, force=force)
        return {}
    dependents = knowledge_rows.dependent_agents(session, organization.id, documentation_id)
    if dependents and not force:
        names = ", ".join(agent.name for agent in dependents)
        raise api_error(
            status.HTTP_409_CONFLICT,
            "document_in_use",
            f"the document is used by {len(dependents)} agent(s) ({names}); "
            "detach it first or delete with force=true",
        )
    remove_document(session, organization.id, documentation_id, dependents)
    audit(
        session,
        principal,
        "deleted",
        "knowledge_document",
        documentation_id,
        detached_from=[agent.id for agent in dependents],
    )
    return {}


def _index(document: KnowledgeDocument) -> RagIndex:
    return RagIndex(
        id=f"{document.id}:{EMBEDDING_MODEL}",
        model=EMBEDDING_MODEL,
        status=INDEX_STATUS.get(document.index_status, document.index_status),
        progress_percentage=round(document.index_progress * 100.0, 1),
        document_model_index_usage=IndexUsage(
            used_bytes=document.size_bytes if document.index_status == "succeeded" else 0
        ),
        error=document.index_error,
    )


@router.post("/{documentation_id}/rag-index", response_model=RagIndex)
def compute_rag_index(
    documentation_id: str, body: RagIndexRequest, principal: PrincipalDep, session: SessionDep
) -> RagIndex:
    """The document's index status; a failed index is queued again."""
    document = _document(session, principal.organization, documentation_id)
    if document.index_status == "failed":
        knowledge_rows.reindex(session, document)
    return _index(document)


@router.get("/{documentation_id}/rag-index", response_model=RagIndexes)
def get_rag_indexes(
    documentation_id: str, organization: OrganizationDep, session: SessionDep
) -> RagIndexes:
    return RagIndexes(indexes=[_index(_document(session, organization, documentation_id))])
