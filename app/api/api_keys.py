"""`/v1/api-keys`: the organization's API keys (admins only).

A key is shown once, in the answer that creates it; only its hash and a display prefix are
kept. A key without scopes may do what an admin may; one with scopes only what they name. A key
restricted by scopes cannot create a key that may do more than itself.
"""

from __future__ import annotations

from fastapi import APIRouter, Response, status
from pydantic import BaseModel, ConfigDict, Field

from app.api.deps import PrincipalDep, SessionDep, audit
from app.api.errors import api_error, not_found
from app.api.openapi import error_responses
from app.api.times import unix, unix_or_none
from app.db import organizations as key_rows
from app.db.models import ApiKey
from app.people.roles import Permission

router = APIRouter(prefix="/v1/api-keys", tags=["api keys"])


class ApiKeyCreateRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200, description="shown in the audit log")
    # The permissions the key is restricted to; null: all of an admin's.
    scopes: list[Permission] | None = Field(default=None, min_length=1, max_length=50)


class ApiKeyResponse(BaseModel):
    key_id: str
    name: str
    # The key's first characters, to tell keys apart; never the whole key.
    key_prefix: str
    scopes: list[str] | None
    created_at_unix_secs: int
    last_used_at_unix_secs: int | None
    revoked_at_unix_secs: int | None


class ApiKeyCreatedResponse(ApiKeyResponse):
    # The key itself: shown in this answer only.
    api_key: str


class ApiKeysPage(BaseModel):
    api_keys: list[ApiKeyResponse]


def _view(key: ApiKey) -> ApiKeyResponse:
    return ApiKeyResponse(
        key_id=key.id,
        name=key.name,
        key_prefix=key.key_prefix,
        scopes=key.scopes,
        created_at_unix_secs=unix(key.created_at),
        last_used_at_unix_secs=unix_or_none(key.last_used_at),
        revoked_at_unix_secs=unix_or_none(key.revoked_at),
    )


def _label(key: ApiKey) -> str:
    """How the audit log names a key (as `velox orgs keys create` does)."""
    return f"{key.name} ({key.key_prefix}…)"


@router.get("")
def list_api_keys(session: SessionDep, principal: PrincipalDep) -> ApiKeysPage:
    """Every key of the organization, revoked ones included (last), never the keys themselves."""
    keys = key_rows.list_api_keys(session, principal.organization.id)
    return ApiKeysPage(api_keys=[_view(k) for k in keys])


@router.post("", status_code=status.HTTP_201_CREATED, responses=error_responses(403, 422))
def create_api_key(
    body: ApiKeyCreateRequest, session: SessionDep, principal: PrincipalDep
) -> ApiKeyCreatedResponse:
    """A new key; the answer is the only time it is shown."""
    scopes = None if body.scopes is None else sorted({s.value for s in body.scopes})
    if principal.scopes is not None:
        held = {p.value for p in principal.scopes}
        beyond = sorted(set(scopes or (p.value for p in Permission)) - held - {"me"})
        if beyond:
            raise api_error(
                status.HTTP_403_FORBIDDEN,
                "scope_exceeds_key",
                f"this API key may not create a key that may do more than itself: "
                f"{', '.join(beyond)}; name only scopes it holds",
            )
    key, plaintext = key_rows.create_api_key(
        session, principal.organization.id, body.name, scopes=scopes
    )
    audit(session, principal, "created", "api_key", _label(key), key_id=key.id, scopes=scopes)
    return ApiKeyCreatedResponse(**_view(key).model_dump(), api_key=plaintext)


@router.delete("/{key_id}", status_code=status.HTTP_204_NO_CONTENT, responses=error_responses(404))
def revoke_api_key(key_id: str, session: SessionDep, principal: PrincipalDep) -> Response:
    """Revoke a key: requests with it are refused from now on. Revoking it again changes
    nothing."""
    key = key_rows.get_api_key(session, principal.organization.id, key_id)
    if key is None:
        raise not_found("api_key", key_id)
    if key.revoked_at is None:
        key_rows.revoke_api_key(session, key)
        audit(session, principal, "deleted", "api_key", _label(key), key_id=key.id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
