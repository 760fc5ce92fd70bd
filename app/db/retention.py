"""Retention clean-up: rows that have outlived their use, deleted across all organizations."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import create_engine, delete, select, text, update
from sqlalchemy.orm import Session

from app.db.models import Agent, Call, UsedConversationToken


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


def all_agents(session: Session) -> list[Agent]:
    """Every agent (retention is read from each one's privacy settings by the caller)."""
    return list(session.scalars(select(Agent).order_by(Agent.id)))


def expired_calls(
    session: Session, agent_id: str, ended_before: datetime, limit: int
) -> list[Call]:
    """Up to `limit` finished calls of the agent that ended before `ended_before`."""
    query = (
        select(Call)
        .where(
            Call.agent_id == agent_id,
            Call.status.in_(("done", "failed")),
            Call.ended_at < ended_before,
        )
        .order_by(Call.ended_at)
        .limit(limit)
    )
    return list(session.scalars(query))


def expired_recordings(
    session: Session, agent_id: str, ended_before: datetime, limit: int
) -> list[Call]:
    """Up to `limit` of the agent's calls that ended before `ended_before` and still have a
    recording."""
    query = (
        select(Call)
        .where(
            Call.agent_id == agent_id,
            Call.recording_path.is_not(None),
            Call.ended_at < ended_before,
        )
        .order_by(Call.ended_at)
        .limit(limit)
    )
    return list(session.scalars(query))


def delete_calls(session: Session, call_ids: list[str]) -> None:
    """Delete the calls; their turns, events and analyses go with them (foreign keys cascade)."""
    session.execute(delete(Call).where(Call.id.in_(call_ids)))


def forget_recordings(session: Session, call_ids: list[str]) -> None:
    session.execute(
        update(Call)
        .where(Call.id.in_(call_ids))
        .values(recording_path=None, has_user_audio=False, has_response_audio=False)
    )
