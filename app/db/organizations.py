"""Organizations and their API keys: creation, key issue and revocation, and key authentication."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from app.db.models import ApiKey, Organization, new_id, utc_now

API_KEY_PREFIX = "vx_"
DISPLAY_PREFIX_LENGTH = 8


def hash_api_key(plaintext_key: str) -> str:
    return hashlib.sha256(plaintext_key.encode("utf-8")).hexdigest()


def create_organization(session: Session, name: str) -> tuple[Organization, str]:
    """Create an organization with its first API key; the plaintext key is returned only here."""
    organization = Organization(id=new_id("org"), name=name)
    session.add(organization)
    session.flush()
    _, plaintext_key = create_api_key(session, organization.id, name="default")
    return organization, plaintext_key


def create_api_key(
    session: Session, organization_id: str, name: str, scopes: list[str] | None = None
) -> tuple[ApiKey, str]:
    """Issue a new key for the organization; only its hash and a display prefix are stored.
    With `scopes`, the key may do only what those permissions allow."""
    plaintext_key = API_KEY_PREFIX + secrets.token_hex(32)
    api_key = ApiKey(
        id=new_id("key"),
        organization_id=organization_id,
        name=name,
        key_prefix=plaintext_key[:DISPLAY_PREFIX_LENGTH],
        key_hash=hash_api_key(plaintext_key),
        scopes=scopes,
    )
    session.add(api_key)
    session.flush()
    return api_key, plaintext_key


LAST_USED_RESOLUTION = timedelta(minutes=1)


def authenticate(session: Session, plaintext_key: str) -> tuple[Organization, ApiKey] | None:
    """The organization owning this live key, and the key; None if unknown or revoked."""
    api_key = session.scalar(
        select(ApiKey).where(
            ApiKey.key_hash == hash_api_key(plaintext_key), ApiKey.revoked_at.is_(None)
        )
    )
    if api_key is None:
        return None
    organization = session.get(Organization, api_key.organization_id)
    return (organization, api_key) if organization is not None else None


def record_key_use(session: Session, api_key_id: str) -> None:
    """Note that a key was used, at minute resolution.

    Meant for its own short transaction: done inside a request's transaction, concurrent
    requests with the same key would queue on this row until each request finished.
    """
    now = utc_now()
    session.execute(
        update(ApiKey)
        .where(
            ApiKey.id == api_key_id,
            or_(ApiKey.last_used_at.is_(None), ApiKey.last_used_at < now - LAST_USED_RESOLUTION),
        )
        .values(last_used_at=now)
    )


def count_organizations(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Organization)) or 0


def organizations_named(session: Session, name_or_id: str) -> list[Organization]:
    """The organizations whose id is `name_or_id`, else those with that name (names may repeat)."""
    by_id = session.get(Organization, name_or_id)
    if by_id is not None:
        return [by_id]
    return list(
        session.scalars(
            select(Organization).where(Organization.name == name_or_id).order_by(Organization.id)
        )
    )


def list_api_keys(session: Session, organization_id: str) -> list[ApiKey]:
    """The organization's keys, live ones first, each group newest first."""
    return list(
        session.scalars(
            select(ApiKey)
            .where(ApiKey.organization_id == organization_id)
            .order_by(ApiKey.revoked_at.is_not(None), ApiKey.created_at.desc(), ApiKey.id)
        )
    )


def get_api_key(session: Session, organization_id: str, key_id: str) -> ApiKey | None:
    return session.scalar(
        select(ApiKey).where(ApiKey.organization_id == organization_id, ApiKey.id == key_id)
    )


def revoke_api_key(session: Session, api_key: ApiKey) -> None:
    """Stop the key working at once (its row stays, for the audit log's sake)."""
    if api_key.revoked_at is None:
        api_key.revoked_at = utc_now()
        session.flush()
