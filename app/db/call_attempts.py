"""Call attempts: one row per dial of a lead, from its claim to its outcome.

The dialer's exactly-once guarantee rests on `take_claimed_attempt` and `close_attempt`: each
is one conditional update, so of two workers (or a dial and a status callback) one wins.
What to do with an attempt is decided in app/outbound/ (`campaign_runs.py`, its dials;
`campaign_outcomes.py`, how they end); this module reads and writes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.db.calls import TERMINAL_TWILIO_STATUSES
from app.db.models import Call, CallAttempt, Campaign, CampaignLead, new_id, utc_now


def list_attempts(session: Session, organization_id: str, campaign_id: str) -> list[CallAttempt]:
    query = select(CallAttempt).where(
        CallAttempt.organization_id == organization_id, CallAttempt.campaign_id == campaign_id
    )
    return list(session.scalars(query.order_by(CallAttempt.seq)))


def add_attempt(
    session: Session, campaign: Campaign, lead: CampaignLead, now: datetime
) -> CallAttempt:
    """Claim the lead's next attempt (the lead is then on a call), naming its conversation."""
    lead.status = "calling"
    lead.attempts_made += 1
    attempt = CallAttempt(
        id=new_id("att"),
        campaign_id=campaign.id,
        lead_id=lead.id,
        organization_id=campaign.organization_id,
        number=lead.attempts_made,
        status="claimed",
        conversation_id=new_id("conv"),
        claimed_at=now,
        detail="",
    )
    session.add(attempt)
    return attempt


def unsent_claims(session: Session, older_than: datetime, sent_before: datetime) -> list[str]:
    """Claims whose dial task was never sent (claimed before `older_than`: the tick that made
    them died first), or was sent before `sent_before` and has still not begun (its message
    was lost with a killed worker); a claim whose task waits in a long queue is neither."""
    query = select(CallAttempt.id).where(
        CallAttempt.status == "claimed",
        CallAttempt.claimed_at < older_than,
        CallAttempt.sent_at.is_(None) | (CallAttempt.sent_at < sent_before),
    )
    return list(session.scalars(query))


def mark_sent(session: Session, attempt_ids: list[str], now: datetime) -> None:
    """The dial tasks of these claims are on the queue."""
    if attempt_ids:
        session.execute(
            update(CallAttempt)
            .where(CallAttempt.id.in_(attempt_ids), CallAttempt.status == "claimed")
            .values(sent_at=now)
        )


def take_claimed_attempt(session: Session, attempt_id: str) -> CallAttempt | None:
    """Move the attempt from `claimed` to `dialing`; None if it was not `claimed`."""
    taken = session.execute(
        update(CallAttempt)
        .where(CallAttempt.id == attempt_id, CallAttempt.status == "claimed")
        .values(status="dialing", dialed_at=utc_now())
    )
    if getattr(taken, "rowcount", 0) != 1:
        return None
    return session.scalars(select(CallAttempt).where(CallAttempt.id == attempt_id)).one()


def mark_dialed(session: Session, attempt_id: str, call_sid: str) -> bool:
    """`dialing` → `dialed` with its CallSid; False if the attempt was ended meanwhile."""
    done = session.execute(
        update(CallAttempt)
        .where(CallAttempt.id == attempt_id, CallAttempt.status == "dialing")
        .values(status="dialed", call_sid=call_sid)
    )
    return getattr(done, "rowcount", 0) == 1


def close_attempt(
    session: Session, attempt_id: str, outcome: str | None, detail: str, call_sid: str | None
) -> bool:
    """End an attempt that is not ended yet; False if another transaction ended it first.

    One conditional update: whoever ends an attempt (the dial that failed, the tick that saw
    its call end, the recovery of a dead dial) does so once, and decides the lead's next step.
    """
    values: dict[str, Any] = {
        "status": "ended",
        "outcome": outcome,
        "detail": detail,
        "ended_at": utc_now(),
    }
    if call_sid:
        values["call_sid"] = call_sid
    done = session.execute(
        update(CallAttempt)
        .where(CallAttempt.id == attempt_id, CallAttempt.status != "ended")
        .values(**values)
    )
    session.expire_all()
    return getattr(done, "rowcount", 0) == 1


def delete_attempt(session: Session, attempt: CallAttempt) -> None:
    """Forget an attempt that never began (its number is then free for the next one)."""
    session.delete(attempt)
    session.flush()


def attempts_dialed_before(session: Session, cutoff: datetime) -> list[CallAttempt]:
    """Attempts on a call since before `cutoff` whose call never reported an end."""
    query = select(CallAttempt).where(
        CallAttempt.status == "dialed", CallAttempt.dialed_at < cutoff
    )
    return list(session.scalars(query.with_for_update(skip_locked=True)))


def attempt_by_id(session: Session, attempt_id: str) -> CallAttempt:
    return session.scalars(select(CallAttempt).where(CallAttempt.id == attempt_id)).one()


def earlier_outcomes(session: Session, attempt: CallAttempt) -> list[str]:
    """The outcomes of the lead's attempts before `attempt`, oldest first."""
    query = (
        select(CallAttempt.outcome)
        .where(
            CallAttempt.lead_id == attempt.lead_id,
            CallAttempt.number < attempt.number,
            CallAttempt.outcome.is_not(None),
        )
        .order_by(CallAttempt.number)
    )
    return [outcome for outcome in session.scalars(query) if outcome is not None]


def attempts_dialing_since_before(
    session: Session, dead_before: datetime
) -> list[tuple[CallAttempt, Call | None]]:
    """Attempts whose dial began before `dead_before` and never finished, with their call;
    locked, skipping those another tick is mending."""
    query = (
        select(CallAttempt, Call)
        .outerjoin(Call, Call.id == CallAttempt.conversation_id)
        .where(CallAttempt.status == "dialing", CallAttempt.dialed_at < dead_before)
        .with_for_update(of=CallAttempt, skip_locked=True)
    )
    return [(attempt, call) for attempt, call in session.execute(query)]


def attempts_whose_call_ended(session: Session) -> list[tuple[CallAttempt, Call]]:
    """Dialed attempts whose call Twilio reports over, or whose conversation has ended;
    locked, skipping those another tick is ending."""
    ended = Call.provider_status.in_(TERMINAL_TWILIO_STATUSES) | Call.status.in_(("done", "failed"))
    query = (
        select(CallAttempt, Call)
        .join(Call, Call.id == CallAttempt.conversation_id)
        .where(CallAttempt.status.in_(("dialing", "dialed")), ended)
        .with_for_update(of=CallAttempt, skip_locked=True)
    )
    return [(attempt, call) for attempt, call in session.execute(query)]


def lock_attempt_of_conversation(session: Session, conversation_id: str) -> CallAttempt | None:
    """The attempt whose call is this conversation, locked until the transaction ends."""
    return session.scalar(
        select(CallAttempt).where(CallAttempt.conversation_id == conversation_id).with_for_update()
    )


def lead_of_conversation(
    session: Session, conversation_id: str
) -> tuple[CampaignLead, Campaign] | None:
    """The lead and campaign a campaign call was placed for; None for any other call."""
    row = session.execute(
        select(CampaignLead, Campaign)
        .join(CallAttempt, CallAttempt.lead_id == CampaignLead.id)
        .join(Campaign, Campaign.id == CampaignLead.campaign_id)
        .where(CallAttempt.conversation_id == conversation_id)
    ).first()
    return None if row is None else (row[0], row[1])


def set_attempt_outcome(session: Session, attempt_id: str, outcome: str) -> None:
    session.execute(update(CallAttempt).where(CallAttempt.id == attempt_id).values(outcome=outcome))
    session.expire_all()
