"""`GET /v1/convai/conversation/get-signed-url`: a browser-safe URL for one conversation."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode, urlsplit, urlunsplit

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel

from app.api.deps import OrganizationDep, SessionDep
from app.api.errors import not_found
from app.api.openapi import error_responses
from app.config import signed_urls
from app.db import agents as agent_queries
from app.settings import Settings

router = APIRouter(prefix="/v1/convai/conversation", tags=["conversations"])

CONVERSATION_PATH = "/v1/convai/conversation"


class SignedUrl(BaseModel):
    signed_url: str


def conversation_url(public_url: str, query: dict[str, str]) -> str:
    """The conversation WebSocket URL under the public base (`https` → `wss`)."""
    parts = urlsplit(public_url.rstrip("/"))
    scheme = {"https": "wss", "http": "ws"}.get(parts.scheme, parts.scheme)
    return urlunsplit((scheme, parts.netloc, parts.path + CONVERSATION_PATH, urlencode(query), ""))


@router.get("/get-signed-url", responses=error_responses(404))
def get_signed_url(
    request: Request,
    agent_id: Annotated[str, Query()],
    organization: OrganizationDep,
    session: SessionDep,
) -> SignedUrl:
    if agent_queries.get_agent(session, organization.id, agent_id) is None:
        raise not_found("agent", agent_id)
    settings: Settings = request.app.state.settings
    token = signed_urls.issue(
        settings.signing_secret(), organization.id, agent_id, settings.signed_url_ttl_s
    )
    query = {"agent_id": agent_id, "conversation_signature": token}
    return SignedUrl(signed_url=conversation_url(settings.resolved_public_url(), query))
