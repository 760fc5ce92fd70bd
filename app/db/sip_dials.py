"""Calls queued for a SIP node to place: the campaign dialer's hand-over to the SIP listener.

A dial task runs in a worker, but a SIP call is placed and held by a serving node (its UDP
socket, the call's media and agent). So the dial task records the conversation (status
`initiated`) with its Call-ID and `provider_status` `queued`; a node with SIP takes it by a
conditional update (`queued` → `initiated`: exactly one node wins, on PostgreSQL and SQLite)
and sends the INVITE. A dial no node took within its time is failed (`expire_queued`), so the
lead is retried as the campaign's rules say (it was never placed).

`provider_status` speaks Twilio's call statuses (`app/db/calls.py`, TERMINAL_TWILIO_STATUSES):
the SIP dialer writes its outcome there too (`busy`, `no-answer`, `failed`, `completed`), so
the campaign outcomes read a SIP call's end as they read a Twilio one's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.db.calls import fail_unstarted_call
from app.db.models import Call

QUEUED = "queued"
TAKEN = "initiated"


@dataclass(frozen=True, slots=True)
class QueuedDial:
    """A queued call a node has taken: what it needs to send the INVITE."""

    conversation_id: str
    organization_id: str
    agent_id: str
    phone_number_id: str
    from_number: str
    to_number: str
    sip_call_id: str
    initiation: dict[str, Any]


def queue_dial(session: Session, organization_id: str, call_id: str, sip_call_id: str) -> bool:
    """Queue a recorded, unstarted call for a SIP node; False if it is not `initiated` any more."""
    done = session.execute(
        update(Call)
        .where(
            Call.organization_id == organization_id,
            Call.id == call_id,
            Call.status == "initiated",
            Call.provider_status.is_(None),
        )
        .values(provider_call_sid=sip_call_id, provider_status=QUEUED)
    )
    return getattr(done, "rowcount", 0) == 1


def take_queued(session: Session, queued_since: datetime, limit: int) -> list[QueuedDial]:
    """Take up to `limit` dials queued since `queued_since`, oldest first, for this node."""
    if limit <= 0:
        return []
    candidates = session.scalars(
        select(Call)
        .where(
            Call.provider_status == QUEUED,
            Call.created_at >= queued_since,
            Call.phone_number_id.is_not(None),
        )
        .order_by(Call.created_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    taken: list[QueuedDial] = []
    for call in candidates:
        won = session.execute(
            update(Call)
            .where(Call.id == call.id, Call.provider_status == QUEUED)
            .values(provider_status=TAKEN)
            .execution_options(synchronize_session=False)
        )
        if getattr(won, "rowcount", 0) != 1 or call.phone_number_id is None:
            continue  # another node took it
        taken.append(
            QueuedDial(
                conversation_id=call.id,
                organization_id=call.organization_id,
                agent_id=call.agent_id,
                phone_number_id=call.phone_number_id,
                from_number=call.from_number,
                to_number=call.to_number,
                sip_call_id=call.provider_call_sid or "",
                initiation=dict(call.initiation or {}),
            )
        )
    session.flush()
    return taken


def expire_queued(session: Session, queued_before: datetime, reason: str) -> int:
    """Fail the dials queued before `queued_before` that no node took: never placed."""
    stale = session.execute(
        select(Call.organization_id, Call.id)
        .where(Call.provider_status == QUEUED, Call.created_at < queued_before)
        .with_for_update(skip_locked=True)
    ).all()
    expired = 0
    for organization_id, call_id in stale:
        won = session.execute(
            update(Call)
            .where(Call.id == call_id, Call.provider_status == QUEUED)
            .values(provider_status="failed")
            .execution_options(synchronize_session=False)
        )
        if getattr(won, "rowcount", 0) == 1:  # not taken by a node meanwhile
            fail_unstarted_call(session, organization_id, call_id, reason)
            expired += 1
    session.flush()
    return expired


def set_provider_status(session: Session, organization_id: str, call_id: str, status: str) -> None:
    """The carrier's status of a call, in Twilio's words (the SIP dialer's outcome)."""
    session.execute(
        update(Call)
        .where(Call.organization_id == organization_id, Call.id == call_id)
        .values(provider_status=status)
    )
