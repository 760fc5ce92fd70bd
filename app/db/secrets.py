"""Queries for an organization's secrets (values stored encrypted; see `app.config.credentials`)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db.models import Secret, new_id, utc_now


def create_secret(
    session: Session, organization_id: str, name: str, encrypted_value: str
) -> Secret:
    now = utc_now()
    secret = Secret(
        id=new_id("secret"),
        organization_id=organization_id,
        name=name,
        encrypted_value=encrypted_value,
        created_at=now,
        updated_at=now,
    )
    session.add(secret)
    session.flush()
    return secret


def get_secret(session: Session, organization_id: str, secret_id: str) -> Secret | None:
    return session.scalar(
        select(Secret).where(Secret.organization_id == organization_id, Secret.id == secret_id)
    )


def list_secrets(session: Session, organization_id: str) -> list[Secret]:
    return list(
        session.scalars(
            select(Secret)
            .where(Secret.organization_id == organization_id)
            .order_by(Secret.seq.desc())
        )
    )


def encrypted_secrets(
    session: Session, organization_id: str, secret_ids: Iterable[str]
) -> dict[str, str]:
    """Secret id → encrypted value, for the organization's secrets among `secret_ids`."""
    ids = list(secret_ids)
    if not ids:
        return {}
    rows = session.scalars(
        select(Secret).where(Secret.organization_id == organization_id, Secret.id.in_(ids))
    )
    return {secret.id: secret.encrypted_value for secret in rows}


def update_secret(
    session: Session,
    organization_id: str,
    secret_id: str,
    *,
    name: str | None,
    encrypted_value: str | None,
) -> Secret | None:
    secret = get_secret(session, organization_id, secret_id)
    if secret is None:
        return None
    if name is not None:
        secret.name = name
    if encrypted_value is not None:
        secret.encrypted_value = encrypted_value
    secret.updated_at = utc_now()
    session.flush()
    return secret


def delete_secret(session: Session, organization_id: str, secret_id: str) -> bool:
    secret = get_secret(session, organization_id, secret_id)
    if secret is None:
        return False
    session.delete(secret)
    session.flush()
    return True
