"""`/v1/provider-keys`: an organization's keys for cloud providers (Velox-only resource).

Keys are write-only: the API says whether a key is set and when, never what it is.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request, Response, status
from pydantic import BaseModel, Field

from app.api.deps import OrganizationDep, PrincipalDep, SessionDep, audit
from app.api.errors import api_error
from app.api.times import unix
from app.config.credentials import CLOUD_PROVIDERS, CredentialBox
from app.db import provider_credentials as credential_queries
from app.settings import Settings

router = APIRouter(prefix="/v1/provider-keys", tags=["provider keys"])

ProviderName = Annotated[str, Path(description=f"one of {', '.join(CLOUD_PROVIDERS)}")]


class ProviderKeyBody(BaseModel):
    api_key: str = Field(min_length=8, max_length=512)


class ProviderKeyStatus(BaseModel):
    provider: str
    is_set: bool
    updated_at_unix_secs: int | None = None


class ProviderKeys(BaseModel):
    provider_keys: list[ProviderKeyStatus]


def _known(provider: str) -> str:
    if provider not in CLOUD_PROVIDERS:
        raise api_error(
            status.HTTP_404_NOT_FOUND,
            "unknown_provider",
            f"no cloud provider named {provider!r}; use one of {', '.join(CLOUD_PROVIDERS)}",
        )
    return provider


def _box(request: Request) -> CredentialBox:
    settings: Settings = request.app.state.settings
    return CredentialBox(settings.signing_secret())


@router.get("", response_model=ProviderKeys)
def list_provider_keys(organization: OrganizationDep, session: SessionDep) -> ProviderKeys:
    """Which cloud providers the organization has a key for."""
    stored = {c.provider: c for c in credential_queries.list_keys(session, organization.id)}
    return ProviderKeys(
        provider_keys=[
            ProviderKeyStatus(
                provider=name,
                is_set=name in stored,
                updated_at_unix_secs=(unix(stored[name].updated_at) if name in stored else None),
            )
            for name in CLOUD_PROVIDERS
        ]
    )


@router.put("/{provider}", response_model=ProviderKeyStatus)
def set_provider_key(
    provider: ProviderName,
    body: ProviderKeyBody,
    request: Request,
    principal: PrincipalDep,
    session: SessionDep,
) -> ProviderKeyStatus:
    """Store the organization's key for `provider`, encrypted; replaces any earlier one."""
    organization = principal.organization
    credential = credential_queries.set_key(
        session, organization.id, _known(provider), _box(request).encrypt(body.api_key)
    )
    audit(session, principal, "changed", "provider_key", provider)
    return ProviderKeyStatus(
        provider=provider, is_set=True, updated_at_unix_secs=unix(credential.updated_at)
    )


@router.delete("/{provider}", status_code=status.HTTP_204_NO_CONTENT)
def delete_provider_key(
    provider: ProviderName, principal: PrincipalDep, session: SessionDep
) -> Response:
    organization = principal.organization
    if not credential_queries.delete_key(session, organization.id, _known(provider)):
        raise api_error(status.HTTP_404_NOT_FOUND, "not_found", f"no key is set for {provider!r}")
    audit(session, principal, "deleted", "provider_key", provider)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
