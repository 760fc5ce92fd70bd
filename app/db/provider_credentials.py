"""Queries for organizations' provider keys (stored encrypted; see `app.config.credentials`)."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from app.db.models import ProviderCredential, utc_now


def set_key(
    session: Session, organization_id: str, provider: str, encrypted_api_key: str
) -> ProviderCredential:
    """Store (or replace) the organization's key for `provider`."""
    credential = session.scalar(
        select(ProviderCredential).where(
            ProviderCredential.organization_id == organization_id,
            ProviderCredential.provider == provider,
        )
    )
    if credential is None:
        credential = ProviderCredential(organization_id=organization_id, provider=provider)
        session.add(credential)
    credential.encrypted_api_key = encrypted_api_key
    credential.updated_at = utc_now()
    session.flush()
    return credential


def delete_key(session: Session, organization_id: str, provider: str) -> bool:
    result = session.execute(
        delete(ProviderCredential).where(
            ProviderCredential.organization_id == organization_id,
            ProviderCredential.provider == provider,
        )
    )
    return bool(getattr(result, "rowcount", 0))


def list_keys(session: Session, organization_id: str) -> list[ProviderCredential]:
    return list(
        session.scalars(
            select(ProviderCredential)
            .where(ProviderCredential.organization_id == organization_id)
            .order_by(ProviderCredential.provider)
        )
    )


def encrypted_keys(session: Session, organization_id: str) -> dict[str, str]:
    """Provider name → encrypted key, for a call about to start."""
    return {c.provider: c.encrypted_api_key for c in list_keys(session, organization_id)}
