"""Campaigns, their leads and attempts, and the do-not-call list: the rows and the queries.

What to do with them (whether to dial a lead, how fast, when to retry) is decided by the pure
domain (campaigns/) in app/campaign_runs.py; this module only reads and writes. Two queries
carry the dialer's exactly-once guarantees: `lock_campaign` (`FOR UPDATE SKIP LOCKED` on
PostgreSQL) and `take_claimed_attempt` (one conditional update).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from app.db.calls import TERMINAL_TWILIO_STATUSES
from app.db.models import (
    Call,
    CallAttempt,
    Campaign,
    CampaignLead,
    PhoneNumber,
    new_id,
    utc_now,
)

# Attempt states in which the lead is on (or being put on) a call.
ACTIVE_ATTEMPTS = ("claimed", "dialing", "dialed")
LEAD_INSERT_BATCH = 1000


@dataclass(frozen=True, slots=True)
class NewLead:
    phone_number: str
    time_zone: str | None
    variables: Mapping[str, str]
    line_number: int | None = None


def create_campaign(
    session: Session,
    organization_id: str,
    *,
    name: str,
    agent_id: str,
    phone_number_id: str,
    state: str,
    settings: dict[str, Any],
    batch: dict[str, Any] | None = None,
) -> Campaign:
    campaign = Campaign(
        id=new_id("camp"),
        organization_id=organization_id,
        name=name,
        agent_id=agent_id,
        phone_number_id=phone_number_id,
        state=state,
        settings=settings,
        batch=batch,
    )
    session.add(campaign)
    session.flush()
    return campaign


def get_campaign(session: Session, organization_id: str, campaign_id: str) -> Campaign | None:
    return session.scalar(
        select(Campaign).where(
            Campaign.organization_id == organization_id, Campaign.id == campaign_id
        )
    )


def list_campaigns(session: Session, organization_id: str) -> list[Campaign]:
    query = select(Campaign).where(Campaign.organization_id == organization_id)
    return list(session.scalars(query.order_by(Campaign.seq.desc())))


def campaigns_in_states(session: Session, states: Iterable[str]) -> list[Campaign]:
    query = select(Campaign).where(Campaign.state.in_(list(states)))
    return list(session.scalars(query.order_by(Campaign.seq)))


def add_leads(session: Session, campaign: Campaign, leads: Iterable[NewLead]) -> int:
    """Insert `leads` in batches; numbers already in the campaign are left out. Returns the
    number inserted."""
    known = set(
        session.scalars(
            select(CampaignLead.phone_number).where(CampaignLead.campaign_id == campaign.id)
        )
    )
    inserted = 0
    batch: list[CampaignLead] = []
    for lead in leads:
        if lead.phone_number in known:
            continue
        known.add(lead.phone_number)
        batch.append(
            CampaignLead(
                id=new_id("lead"),
                campaign_id=campaign.id,
                organization_id=campaign.organization_id,
                phone_number=lead.phone_number,
                time_zone=lead.time_zone,
                variables=dict(lead.variables),
                line_number=lead.line_number,
                status="pending",
                attempts_made=0,
                finished_reason="",
            )
        )
        if len(batch) >= LEAD_INSERT_BATCH:
            session.add_all(batch)
            session.flush()
            inserted += len(batch)
            batch = []
    session.add_all(batch)
    session.flush()
    return inserted + len(batch)


@dataclass(frozen=True, slots=True)
class Progress:
    leads: dict[str, int]
    outcomes: dict[str, int]
    attempts: int
    attempts_in_progress: int


def progress(session: Session, campaign_id: str) -> Progress:
    leads = session.execute(
        select(CampaignLead.status, func.count())
        .where(CampaignLead.campaign_id == campaign_id)
        .group_by(CampaignLead.status)
    )
    attempts = session.execute(
        select(CallAttempt.status, CallAttempt.outcome, func.count())
        .where(CallAttempt.campaign_id == campaign_id)
        .group_by(CallAttempt.status, CallAttempt.outcome)
    ).all()
    outcomes: Counter[str] = Counter()
    active = total = 0
    for status, outcome, count in attempts:
        total += count
        if status in ACTIVE_ATTEMPTS:
            active += count
        elif outcome:
            outcomes[outcome] += count
    return Progress(
        leads={status: count for status, count in leads},
        outcomes=dict(outcomes),
        attempts=total,
        attempts_in_progress=active,
    )


def list_attempts(session: Session, organization_id: str, campaign_id: str) -> list[CallAttempt]:
    query = select(CallAttempt).where(
        CallAttempt.organization_id == organization_id, CallAttempt.campaign_id == campaign_id
    )
    return list(session.scalars(query.order_by(CallAttempt.seq)))


@dataclass(frozen=True, slots=True)
class LeadView:
    lead: CampaignLead
    attempt: CallAttempt | None  # the latest


def leads_with_latest_attempt(session: Session, campaign_id: str) -> list[LeadView]:
    leads = session.scalars(
        select(CampaignLead)
        .where(CampaignLead.campaign_id == campaign_id)
        .order_by(CampaignLead.seq)
    ).all()
    latest: dict[str, CallAttempt] = {}
    for attempt in session.scalars(
        select(CallAttempt).where(CallAttempt.campaign_id == campaign_id).order_by(CallAttempt.seq)
    ):
        latest[attempt.lead_id] = attempt
    return [LeadView(lead, latest.get(lead.id)) for lead in leads]


def finished_leads_with_outcomes(
    session: Session, campaign_id: str, outcomes: Iterable[str]
) -> list[CampaignLead]:
    return list(
        session.scalars(
            select(CampaignLead).where(
                CampaignLead.campaign_id == campaign_id,
                CampaignLead.status == "finished",
                CampaignLead.last_outcome.in_(list(outcomes)),
            )
        )
    )


# --- what the dialer reads and writes ------------------------------------------------------


def lock_campaign(session: Session, campaign_id: str) -> Campaign | None:
    """The campaign, locked for this transaction; None if another transaction holds it."""
    return session.scalar(
        select(Campaign).where(Campaign.id == campaign_id).with_for_update(skip_locked=True)
    )


def caller_id_of(session: Session, campaign: Campaign) -> str:
    number = session.scalar(
        select(PhoneNumber.phone_number).where(PhoneNumber.id == campaign.phone_number_id)
    )
    return number or ""


def count_active_attempts(session: Session, campaign_id: str) -> int:
    count = session.scalar(
        select(func.count())
        .select_from(CallAttempt)
        .where(CallAttempt.campaign_id == campaign_id, CallAttempt.status.in_(ACTIVE_ATTEMPTS))
    )
    return count or 0


def claim_times_since(session: Session, campaign_id: str, since: datetime) -> list[datetime]:
    query = select(CallAttempt.claimed_at).where(
        CallAttempt.campaign_id == campaign_id, CallAttempt.claimed_at > since
    )
    return list(session.scalars(query))


def count_pending_leads(session: Session, campaign_id: str) -> int:
    count = session.scalar(
        select(func.count())
        .select_from(CampaignLead)
        .where(CampaignLead.campaign_id == campaign_id, CampaignLead.status == "pending")
    )
    return count or 0


def due_leads(session: Session, campaign_id: str, now: datetime, limit: int) -> list[CampaignLead]:
    """Pending leads due by `now`, never-called first, locked (skipping rows others hold)."""
    due = CampaignLead.due_at.is_(None) | (CampaignLead.due_at <= now)
    query = (
        select(CampaignLead)
        .where(CampaignLead.campaign_id == campaign_id, CampaignLead.status == "pending", due)
        .order_by(CampaignLead.due_at.is_not(None), CampaignLead.due_at, CampaignLead.seq)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list(session.scalars(query))


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


def unsent_claims(session: Session, older_than: datetime) -> list[str]:
    """Attempts claimed before `older_than` whose dial never began."""
    query = select(CallAttempt.id).where(
        CallAttempt.status == "claimed", CallAttempt.claimed_at < older_than
    )
    return list(session.scalars(query))


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


def start_scheduled(session: Session, campaign_id: str, running: str, scheduled: str) -> bool:
    """Scheduled → running, unless its state changed meanwhile (a cancel, say)."""
    done = session.execute(
        update(Campaign)
        .where(Campaign.id == campaign_id, Campaign.state == scheduled)
        .values(state=running)
    )
    return getattr(done, "rowcount", 0) == 1


def get_campaign_for_update(
    session: Session, organization_id: str, campaign_id: str
) -> Campaign | None:
    """The campaign, locked until the transaction ends (waits for a tick that holds it)."""
    return session.scalar(
        select(Campaign)
        .where(Campaign.organization_id == organization_id, Campaign.id == campaign_id)
        .with_for_update()
    )


def attempts_dialed_before(session: Session, cutoff: datetime) -> list[CallAttempt]:
    """Attempts on a call since before `cutoff` whose call never reported an end."""
    query = select(CallAttempt).where(
        CallAttempt.status == "dialed", CallAttempt.dialed_at < cutoff
    )
    return list(session.scalars(query.with_for_update(skip_locked=True)))


def attempt_by_id(session: Session, attempt_id: str) -> CallAttempt:
    return session.scalars(select(CallAttempt).where(CallAttempt.id == attempt_id)).one()


def campaign_by_id(session: Session, campaign_id: str) -> Campaign:
    return session.scalars(select(Campaign).where(Campaign.id == campaign_id)).one()


def lead_by_id(session: Session, lead_id: str) -> CampaignLead:
    return session.scalars(select(CampaignLead).where(CampaignLead.id == lead_id)).one()


def earlier_outcomes(session: Session, attempt: CallAttempt) -> list[str]:
    """The outcomes of the lead's attempts before `attempt`, oldest first."""
    query = (
        select(CallAttempt.outcome)
        .where(
            CallAttempt.lead_id == attempt.lead_id,
            CallAttempt.id != attempt.id,
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
