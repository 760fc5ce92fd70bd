"""Single use of signed conversation URLs: a token id may be recorded once."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.db.models import UsedConversationToken, utc_now


def use_token(session: Session, token_id: str, organization_id: str, expires_at: int) -> bool:
    """Record the token as used; False if it had been used before."""
    session.execute(
        delete(UsedConversationToken).where(UsedConversationToken.expires_at < utc_now())
    )
    try:
        with session.begin_nested():
            session.add(
                UsedConversationToken(
                    token_id=token_id,
                    organization_id=organization_id,
                    expires_at=datetime.fromtimestamp(expires_at, UTC),
                )
            )
    except IntegrityError:
        return False
    return True
