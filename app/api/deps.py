"""Request dependencies: a database session per request and the organization behind the API key."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request, status
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from app.api.errors import api_error
from app.db.models import Organization, utc_now
from app.db.organizations import LAST_USED_RESOLUTION, authenticate, record_key_use
from app.db.session import Database

_api_key_header = APIKeyHeader(name="xi-api-key", auto_error=False)
_bearer = HTTPBearer(auto_error=False)


def get_database(request: Request) -> Database:
    database: Database = request.app.state.database
    return database


def get_session(request: Request) -> Iterator[Session]:
    """A session committed when the route returns and rolled back if it raises."""
    with get_database(request).session() as session:
        yield session


# scope="function" commits before the response is sent, so a client that reads right after a
# write always sees it.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]


def current_organization(
    request: Request,
    session: SessionDep,
    api_key: Annotated[str | None, Depends(_api_key_header)],
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Organization:
    """The organization owning the ``xi-api-key`` header's key (or the Bearer token's); else 401."""
    plaintext_key = api_key or (bearer.credentials if bearer is not None else None)
    if not plaintext_key:
        raise api_error(
            status.HTTP_401_UNAUTHORIZED,
            "invalid_api_key",
            "Send an API key in the xi-api-key header or as 'Authorization: Bearer <key>'.",
        )
    found = authenticate(session, plaintext_key)
    if found is None:
        raise api_error(
            status.HTTP_401_UNAUTHORIZED,
            "invalid_api_key",
            "The API key is unknown or revoked; create a new key for your organization.",
        )
    organization, key = found
    if key.last_used_at is None or utc_now() - key.last_used_at >= LAST_USED_RESOLUTION:
        with get_database(request).session() as own_transaction:
            record_key_use(own_transaction, key.id)
    return organization


OrganizationDep = Annotated[Organization, Depends(current_organization)]
