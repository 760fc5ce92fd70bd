"""Retention clean-up: rows that have outlived their use, deleted across all organizations."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import create_engine, delete, text
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


def delete_delivered_messages(broker_database_url: str, older_than_s: float) -> int:
    """Delete messages kombu's SQLAlchemy transport delivered before `older_than_s` ago.

    The broker's own file, not the service database: kombu stamps `timestamp` in local time
    and keeps a delivered message with `visible = 0`.
    """
    cutoff = datetime.now() - timedelta(seconds=older_than_s)
    engine = create_engine(broker_database_url)
    try:
        with engine.begin() as connection:
            deleted = connection.execute(
                text("DELETE FROM kombu_message WHERE visible = 0 AND timestamp < :cutoff"),
                {"cutoff": cutoff},
            )
            return int(getattr(deleted, "rowcount", 0) or 0)
    finally:
        engine.dispose()
