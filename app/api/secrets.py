"""ElevenLabs-compatible workspace secrets under ``/v1/convai/secrets``: values encrypted at
rest like provider keys, written once and never returned; tools' headers name them."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Request, status
from pydantic import BaseModel, ConfigDict, Field

from app.api.deps import OrganizationDep, PrincipalDep, SessionDep, audit
from app.api.errors import api_error, not_found
from app.api.times import unix
from app.config.credentials import CredentialBox
from app.config.tools import WebhookToolConfig
from app.db import secrets as secret_queries
from app.db import tools as tool_queries
from app.db.models import Secret, Tool
from app.settings import Settings

router = APIRouter(prefix="/v1/convai/secrets", tags=["secrets"])


class SecretCreateRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    type: Literal["new"] = "new"
    name: str = Field(min_length=1, max_length=200)
    value: str = Field(min_length=1, max_length=4000)


class SecretUpdateRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    type: Literal["update"] = "update"
    name: str | None = Field(default=None, min_length=1, max_length=200)
    value: str | None = Field(default=None, min_length=1, max_length=4000)


class StoredSecret(BaseModel):
    type: Literal["stored"] = "stored"
    secret_id: str
    name: str


class DependentTool(BaseModel):
    type: Literal["available"] = "available"
    id: str
    name: str
    created_at_unix_secs: int
    access_level: str = "admin"


class SecretDependencies(BaseModel):
    tools: list[DependentTool]
    agents: list[dict[str, Any]] = Field(default_factory=list)
    others: list[str] = Field(default_factory=list)


class SecretSummary(StoredSecret):
    used_by: SecretDependencies


class SecretsPage(BaseModel):
    secrets: list[SecretSummary]
    next_cursor: str | None = None


def _box(request: Request) -> CredentialBox:
    settings: Settings = request.app.state.settings
    return CredentialBox(settings.signing_secret())


def tools_using(tools: list[Tool], secret_id: str) -> list[Tool]:
    return [
        tool
        for tool in tools
        if secret_id in WebhookToolConfig.model_validate(tool.config).secret_ids()
    ]


def _summary(secret: Secret, tools: list[Tool]) -> SecretSummary:
    return SecretSummary(
        secret_id=secret.id,
        name=secret.name,
        used_by=SecretDependencies(
            tools=[
                DependentTool(id=t.id, name=t.name, created_at_unix_secs=unix(t.created_at))
                for t in tools_using(tools, secret.id)
            ]
        ),
    )


@router.post("", response_model=StoredSecret)
def create_secret(
    body: SecretCreateRequest, request: Request, principal: PrincipalDep, session: SessionDep
) -> StoredSecret:
    """Store a secret, encrypted; its id is what a tool's header names (`{"secret_id": …}`)."""
    organization = principal.organization
    secret = secret_queries.create_secret(
        session, organization.id, body.name, _box(request).encrypt(body.value)
    )
    audit(session, principal, "created", "secret", secret.id, name=body.name)
    return StoredSecret(secret_id=secret.id, name=secret.name)


@router.get("", response_model=SecretsPage)
def list_secrets(organization: OrganizationDep, session: SessionDep) -> SecretsPage:
    """The workspace's secrets by name and what uses them; never their values."""
    tools = tool_queries.all_tools(session, organization.id)
    return SecretsPage(
        secrets=[
            _summary(secret, tools)
            for secret in secret_queries.list_secrets(session, organization.id)
        ]
    )


@router.get("/{secret_id}", response_model=SecretSummary)
def get_secret(secret_id: str, organization: OrganizationDep, session: SessionDep) -> SecretSummary:
    secret = secret_queries.get_secret(session, organization.id, secret_id)
    if secret is None:
        raise not_found("secret", secret_id)
    return _summary(secret, tool_queries.all_tools(session, organization.id))


@router.patch("/{secret_id}", response_model=StoredSecret)
def update_secret(
    secret_id: str,
    body: SecretUpdateRequest,
    request: Request,
    principal: PrincipalDep,
    session: SessionDep,
) -> StoredSecret:
    """Rename it or replace its value; tools that name it send the new value from their next
    call."""
    organization = principal.organization
    secret = secret_queries.update_secret(
        session,
        organization.id,
        secret_id,
        name=body.name,
        encrypted_value=_box(request).encrypt(body.value) if body.value is not None else None,
    )
    if secret is None:
        raise not_found("secret", secret_id)
    audit(session, principal, "changed", "secret", secret_id)
    return StoredSecret(secret_id=secret.id, name=secret.name)


@router.delete("/{secret_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_secret(secret_id: str, principal: PrincipalDep, session: SessionDep) -> None:
    """Delete a secret; refused (409) while a tool's headers name it, so no tool silently
    loses its credentials."""
    organization = principal.organization
    if secret_queries.get_secret(session, organization.id, secret_id) is None:
        raise not_found("secret", secret_id)
    users = tools_using(tool_queries.all_tools(session, organization.id), secret_id)
    if users:
        raise api_error(
            status.HTTP_409_CONFLICT,
            "secret_in_use",
            f"the secret is used by {len(users)} tool(s) ({', '.join(t.id for t in users[:5])});"
            " change or delete those tools first",
        )
    secret_queries.delete_secret(session, organization.id, secret_id)
    audit(session, principal, "deleted", "secret", secret_id)
