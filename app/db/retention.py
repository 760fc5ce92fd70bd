"""Retention clean-up: rows that have outlived their use, deleted across all organizations."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.orm import Session

from app.db.models import UsedConversationToken


def delete_expired_conversation_tokens(session: Session, now: datetime) -> int:
    """Delete used conversation tokens that expired before ``now``; returns how many.

    An expired token cannot open a conversation anyway, so its row guards nothing.
    """
    expired = session.execute(
        delete(UsedConversationToken)
        .where(UsedConversationToken.expires_at < now)
        .returning(UsedConversationToken.token_id)
        .execution_options(synchronize_session=False)
    )
    return len(expired.all())
