"""What reviewers do to a finished call: read where its recording is, leave feedback, delete it."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from app.db.models import Call


@dataclass(frozen=True, slots=True)
class CallAudio:
    status: str
    recording_path: str | None


def call_audio(session: Session, organization_id: str, call_id: str) -> CallAudio | None:
    """The call's status and recording (None: no such call in this organization)."""
    row = session.execute(
        select(Call.status, Call.recording_path).where(
            Call.organization_id == organization_id, Call.id == call_id
        )
    ).first()
    return None if row is None else CallAudio(row.status, row.recording_path)


def set_feedback(
    session: Session, organization_id: str, call_id: str, feedback: str, given_by: str
) -> bool:
    call = session.scalar(
        select(Call).where(Call.organization_id == organization_id, Call.id == call_id)
    )
    if call is None:
        return False
    call.feedback = feedback
    call.feedback_by = given_by[:400]
    session.flush()
    return True


def delete_call(session: Session, organization_id: str, call_id: str) -> None:
    """Delete the call; its turns, events and analysis go with it (foreign keys cascade)."""
    session.execute(delete(Call).where(Call.organization_id == organization_id, Call.id == call_id))
