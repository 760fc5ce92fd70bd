"""A SIP call's messages, kept with its conversation for debugging (ElevenLabs'
`GET /v1/convai/conversations/{id}/sip-messages`)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db.models import Call, SipMessage


@dataclass(frozen=True, slots=True)
class LoggedSipMessage:
    """A message as the SIP side saw it, before it is stored."""

    sip_call_id: str
    direction: str  # in, out
    local_address: str
    remote_address: str
    raw_message: str
    created_at_unix_micro: int


def save_sip_messages(
    session: Session, organization_id: str, call_id: str, messages: list[LoggedSipMessage]
) -> None:
    """Add the messages to the call's (a call that is gone keeps none)."""
    exists = session.scalar(
        select(Call.id).where(Call.organization_id == organization_id, Call.id == call_id)
    )
    if exists is None:
        return
    session.add_all(
        SipMessage(
            call_id=call_id,
            organization_id=organization_id,
            sip_call_id=message.sip_call_id,
            direction=message.direction,
            local_address=message.local_address,
            remote_address=message.remote_address,
            raw_message=message.raw_message,
            created_at_unix_micro=message.created_at_unix_micro,
        )
        for message in messages
    )
    session.flush()


def list_sip_messages(
    session: Session, organization_id: str, call_id: str, *, limit: int, after: int = 0
) -> list[SipMessage]:
    """A page of the call's messages in the order they went, after the message `after`."""
    query = (
        select(SipMessage)
        .where(
            SipMessage.organization_id == organization_id,
            SipMessage.call_id == call_id,
            SipMessage.id > after,
        )
        .order_by(SipMessage.id)
        .limit(limit)
    )
    return list(session.scalars(query))
