"""Adding documents to the knowledge base (ElevenLabs' `/v1/convai/knowledge-base/text`, `/url`
and `/file`): the text extracted now (an upload capped while it streams in, a URL fetched under
the private-address rule), the document stored and indexed for retrieval in the background."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, HTTPException, Request, status
from pydantic import BaseModel, ConfigDict, Field
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.formparsers import MultiPartException
from starlette.types import Message

from app.api.deps import PrincipalDep, SessionDep, audit
from app.api.errors import api_error
from app.api.knowledge_folders import folder_in
from app.api.knowledge_shapes import FolderSegment, folder_path
from app.api.openapi import error_responses
from app.config.url_guard import UnsafeUrlError
from app.db import knowledge as knowledge_rows
from app.knowledge import intake
from app.knowledge.extraction import UnreadableDocumentError
from app.observability.metrics import KNOWLEDGE_REFUSALS
from app.settings import Settings

router = APIRouter(prefix="/v1/convai/knowledge-base", tags=["knowledge base"])

# The request's multipart framing around a file, beyond the file's own size cap.
MULTIPART_OVERHEAD_BYTES = 64 * 1024


class TextDocumentRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    text: str = Field(min_length=1)
    name: str | None = Field(default=None, min_length=1, max_length=500)
    parent_folder_id: str | None = None


class UrlDocumentRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    url: str = Field(min_length=1, max_length=2000)
    name: str | None = Field(default=None, min_length=1, max_length=500)
    parent_folder_id: str | None = None


class AddedDocument(BaseModel):
    id: str
    name: str
    folder_path: list[FolderSegment] = Field(default_factory=list)


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _added(
    session: SessionDep,
    principal: PrincipalDep,
    kind: str,
    name: str,
    extracted: intake.Extracted,
    parent_folder_id: str | None = None,
    **source: str | None,
) -> AddedDocument:
    if parent_folder_id is not None:
        folder_in(session, principal.organization.id, parent_folder_id)
    document = knowledge_rows.create_document(
        session,
        principal.organization.id,
        name=name,
        type=kind,
        content=extracted.content,
        size_bytes=extracted.size_bytes,
        parent_folder_id=parent_folder_id,
        **source,
    )
    audit(session, principal, "created", "knowledge_document", document.id, name=name)
    return AddedDocument(
        id=document.id, name=document.name, folder_path=folder_path(session, document)
    )


def unreadable(error: UnreadableDocumentError) -> Exception:
    code = (
        status.HTTP_413_CONTENT_TOO_LARGE
        if error.reason == "too_large"
        else status.HTTP_422_UNPROCESSABLE_CONTENT
    )
    return api_error(code, "unreadable_document", str(error))


@router.post("/text", response_model=AddedDocument, responses=error_responses(422))
def create_from_text(
    body: TextDocumentRequest, principal: PrincipalDep, session: SessionDep
) -> AddedDocument:
    """A document holding the given text; indexed for retrieval in the background."""
    try:
        extracted = intake.from_text(body.text)
    except UnreadableDocumentError as error:
        raise unreadable(error) from error
    name = body.name or " ".join(extracted.content.split())[:60]
    return _added(session, principal, "text", name, extracted, body.parent_folder_id)


@router.post("/url", response_model=AddedDocument, responses=error_responses(413, 422))
async def create_from_url(
    body: UrlDocumentRequest, request: Request, principal: PrincipalDep, session: SessionDep
) -> AddedDocument:
    """A document made from the page's main text, fetched now by the server."""
    try:
        extracted = await intake.from_url(body.url, _settings(request))
    except UnsafeUrlError as error:
        raise api_error(status.HTTP_422_UNPROCESSABLE_CONTENT, "unsafe_url", str(error)) from error
    except UnreadableDocumentError as error:
        raise unreadable(error) from error
    return _added(
        session,
        principal,
        "url",
        body.name or body.url,
        extracted,
        body.parent_folder_id,
        url=body.url,
    )


FILE_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {"type": "string", "format": "binary"},
                        "name": {"type": "string", "minLength": 1, "maxLength": 500},
                        "parent_folder_id": {"type": "string"},
                    },
                }
            }
        },
    }
}


async def _capped_body(request: Request, limit: int) -> bytes:
    """The request's body, refused (413) as soon as it passes `limit`: an upload is never
    spooled past the cap."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise unreadable(UnreadableDocumentError("the upload is too large", "too_large"))
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > limit:
            raise unreadable(UnreadableDocumentError("the upload is too large", "too_large"))
    return bytes(body)


@router.post(
    "/file",
    response_model=AddedDocument,
    responses=error_responses(413, 422),
    openapi_extra=FILE_BODY,
)
async def create_from_file(
    request: Request, principal: PrincipalDep, session: SessionDep
) -> AddedDocument:
    """A document made from an uploaded PDF, DOCX, HTML, Markdown, TXT or CSV file
    (multipart: `file`, and optionally `name`)."""
    settings = _settings(request)
    limit = settings.knowledge_max_file_bytes + MULTIPART_OVERHEAD_BYTES
    try:
        body = await _capped_body(request, limit)
    except HTTPException:
        KNOWLEDGE_REFUSALS.labels("too_large").inc()
        raise

    async def replay() -> Message:
        return {"type": "http.request", "body": body, "more_body": False}

    try:
        form = await Request(request.scope, replay).form(max_files=1, max_fields=10)
    except (MultiPartException, StarletteHTTPException) as error:  # Starlette's own 400
        KNOWLEDGE_REFUSALS.labels("bad_multipart").inc()
        detail = getattr(error, "detail", None) or getattr(error, "message", "")
        raise api_error(
            status.HTTP_422_UNPROCESSABLE_CONTENT, "invalid_upload", f"not a file upload: {detail}"
        ) from error
    upload, name, folder = form.get("file"), form.get("name"), form.get("parent_folder_id")
    if not isinstance(upload, UploadFile):
        KNOWLEDGE_REFUSALS.labels("bad_multipart").inc()
        raise api_error(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            "invalid_upload",
            "send the document as the multipart field `file`",
        )
    if name is not None and (not isinstance(name, str) or not 1 <= len(name) <= 500):
        raise api_error(
            status.HTTP_422_UNPROCESSABLE_CONTENT, "invalid_upload", "name: 1 to 500 characters"
        )
    data = await upload.read()
    filename = upload.filename or "document"
    try:
        extracted = await asyncio.to_thread(
            intake.from_file, data, filename, upload.content_type, settings
        )
    except UnreadableDocumentError as error:
        raise unreadable(error) from error
    parent = folder if isinstance(folder, str) and folder else None
    return _added(
        session, principal, "file", name or filename, extracted, parent, filename=filename
    )
