"""`GET /v1/convai/conversation/get-signed-url`: a browser-safe URL for one conversation."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode, urlsplit, urlunsplit

from fastapi import APIRouter, Query, Request, status
from pydantic import BaseModel

from app.api.deps import PrincipalDep, SessionDep
from app.api.errors import api_error, not_found
from app.api.openapi import error_responses
from app.config import signed_urls
from app.db import agents as agent_queries
from app.db import people as people_rows
from app.people.roles import Role, may_talk_to
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


@router.get("/get-signed-url", responses=error_responses(403, 404))
def get_signed_url(
    request: Request,
    agent_id: Annotated[str, Query()],
    principal: PrincipalDep,
    session: SessionDep,
) -> SignedUrl:
    organization = principal.organization
    if agent_queries.get_agent(session, organization.id, agent_id) is None:
        raise not_found("agent", agent_id)
    if principal.user_id is not None and principal.role is Role.FIELD_AGENT:
        user = people_rows.get_user(session, organization.id, principal.user_id)
        if user is None or not may_talk_to(principal.role, user.agent_ids, agent_id):
            raise api_error(
                status.HTTP_403_FORBIDDEN,
                "agent_not_allowed",
                "you may not talk to this agent; an admin chooses the agents you may use",
            )
    settings: Settings = request.app.state.settings
    token = signed_urls.issue(
        settings.signing_secret(), organization.id, agent_id, settings.signed_url_ttl_s
    )
    query = {"agent_id": agent_id, "conversation_signature": token}
    return SignedUrl(signed_url=conversation_url(settings.resolved_public_url(), query))
