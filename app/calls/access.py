"""Who may open a conversation with an agent over the conversation WebSocket.

A public agent takes anyone who knows its id. A private one (`platform_settings.auth.
enable_auth`) needs a signed URL's token, used once, or an API key of the agent's organization
(a business's own server). A token that is forged, expired, reused or for another agent is
refused even for a public agent: a bad credential is never silently ignored.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sqlalchemy.orm import Session

from app.config import signed_urls
from app.config.agent import AgentConfig
from app.db import agents as agent_queries
from app.db.conversation_tokens import use_token
from app.db.organizations import authenticate

AuthMethod = Literal["public", "signed_url", "api_key"]


class AccessRefusedError(Exception):
    """Why the conversation may not start: `reason` is machine-readable, the message says what
    to do, and `status` is the HTTP status the upgrade is refused with."""

    def __init__(self, reason: str, message: str, status: int = 403) -> None:
        super().__init__(message)
        self.reason = reason
        self.status = status


@dataclass(frozen=True, slots=True)
class Admission:
    organization_id: str
    agent_id: str
    config: AgentConfig
    auth_method: AuthMethod


def admit(
    session: Session,
    *,
    secret: bytes,
    agent_id: str | None,
    token: str | None,
    api_key: str | None,
) -> Admission:
    """Admit a client to a conversation with `agent_id`, or raise `AccessRefusedError`."""
    if not agent_id:
        raise AccessRefusedError(
            "missing_agent_id", "add ?agent_id=<agent id> to the conversation URL", 400
        )
    agent = agent_queries.get_agent_for_call(session, agent_id)
    if agent is None:
        raise AccessRefusedError("unknown_agent", f"no agent with id {agent_id!r}", 404)
    config = agent_queries.agent_config(agent)
    admission = Admission(agent.organization_id, agent.id, config, "public")
    if token:
        _use_signed_token(session, secret, token, agent.id, agent.organization_id)
        return Admission(agent.organization_id, agent.id, config, "signed_url")
    if api_key:
        found = authenticate(session, api_key)
        if found is None or found[0].id != agent.organization_id:
            raise AccessRefusedError(
                "invalid_api_key", "the API key is unknown or belongs to another organization"
            )
        return Admission(agent.organization_id, agent.id, config, "api_key")
    if config.platform_settings.auth.enable_auth:
        raise AccessRefusedError(
            "authentication_required",
            "this agent is private: connect with a URL from "
            "GET /v1/convai/conversation/get-signed-url",
        )
    return admission


def _use_signed_token(
    session: Session, secret: bytes, token: str, agent_id: str, organization_id: str
) -> None:
    try:
        claims = signed_urls.verify(secret, token, agent_id)
    except signed_urls.SignedUrlError as error:
        raise AccessRefusedError(error.reason, str(error)) from error
    if claims.organization_id != organization_id:
        raise AccessRefusedError("wrong_agent", "the signed URL is for another agent")
    if not use_token(session, claims.token_id, organization_id, claims.expires_at):
        raise AccessRefusedError(
            "token_reused", "the signed URL was already used: ask for a new one for each session"
        )
