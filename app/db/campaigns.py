"""Campaigns and their leads: the rows and the queries (a lead's attempts are in
app/db/call_attempts.py, the do-not-call list in app/db/do_not_call.py).

What to do with them (whether to dial a lead, how fast, when to retry) is decided by the pure
domain (campaigns/) in app/outbound/; this module only reads and writes. The dialer's tick
holds a campaign through `lock_campaign` (`FOR UPDATE SKIP LOCKED` on PostgreSQL), so of
several workers one claims its leads.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from app.db.models import (
    CallAttempt,
    Campaign,
    CampaignLead,
    PhoneNumber,
    new_id,
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
    owner_user_id: str | None = None


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


@dataclass(frozen=True, slots=True)
class AddedLeads:
    inserted: int
    over_cap: int  # new numbers left out because the campaign already held `max_leads`


def add_leads(
    session: Session, campaign: Campaign, leads: Iterable[NewLead], max_leads: int
) -> AddedLeads:
    """Insert `leads` in batches; numbers already in the campaign are left out, and so is every
    new number past `max_leads` in the campaign (counted). Core inserts (one statement per
    batch, no ORM objects): a 100k-row list goes in several times faster than through the unit
    of work."""
    known = set(
        session.scalars(
            select(CampaignLead.phone_number).where(CampaignLead.campaign_id == campaign.id)
        )
    )
    inserted = over_cap = 0
    batch: list[dict[str, Any]] = []
    for lead in leads:
        if lead.phone_number in known:
            continue
        if len(known) >= max_leads:
            over_cap += 1
            continue
        known.add(lead.phone_number)
        batch.append(
            {
                "id": new_id("lead"),
                "campaign_id": campaign.id,
                "organization_id": campaign.organization_id,
                "phone_number": lead.phone_number,
                "time_zone": lead.time_zone,
                "variables": dict(lead.variables),
                "line_number": lead.line_number,
                "owner_user_id": lead.owner_user_id,
            }
        )
        if len(batch) >= LEAD_INSERT_BATCH:
            inserted += _insert_leads(session, batch)
            batch = []
    return AddedLeads(inserted + _insert_leads(session, batch), over_cap)


def _insert_leads(session: Session, batch: list[dict[str, Any]]) -> int:
    if batch:
        session.execute(insert(CampaignLead), batch)
    return len(batch)


@dataclass(frozen=True, slots=True)
class Progress:
    leads: dict[str, int]
    outcomes: dict[str, int]
    attempts: int
    attempts_in_progress: int
    # Leads called at least once, and leads with an attempt that ended in `answered_outcomes`.
    leads_dialed: int = 0
    leads_answered: int = 0


def progress(session: Session, campaign_id: str, answered_outcomes: Iterable[str] = ()) -> Progress:
    """Leads by status, ended attempts by outcome; and how many leads were dialed, and
    answered (an attempt of theirs ended in one of `answered_outcomes`)."""
    dialed = session.scalar(
        select(func.count())
        .select_from(CampaignLead)
        .where(CampaignLead.campaign_id == campaign_id, CampaignLead.attempts_made > 0)
    )
    answered_in = list(answered_outcomes)
    answered = (
        session.scalar(
            select(func.count(func.distinct(CallAttempt.lead_id))).where(
                CallAttempt.campaign_id == campaign_id, CallAttempt.outcome.in_(answered_in)
            )
        )
        if answered_in
        else 0
    )
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
        leads_dialed=dialed or 0,
        leads_answered=answered or 0,
    )


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


def count_organization_active_attempts(session: Session, organization_id: str) -> int:
    """Attempts in flight (claimed, dialing, dialed) across the organization's campaigns."""
    count = session.scalar(
        select(func.count())
        .select_from(CallAttempt)
        .where(
            # Per campaign, on the (campaign_id, status) index: an organization's ended
            # attempts, however many, are not read.
            CallAttempt.campaign_id.in_(
                select(Campaign.id).where(Campaign.organization_id == organization_id)
            ),
            CallAttempt.status.in_(ACTIVE_ATTEMPTS),
        )
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
    """Pending leads due by `now`, never-called first, locked (skipping rows others hold).

    Two queries, each read in the order of the index on (campaign, status, due_at, seq): one
    `ORDER BY` over both (NULLs first) would sort every pending lead of the campaign first.
    """
    pending = (CampaignLead.campaign_id == campaign_id) & (CampaignLead.status == "pending")
    fresh = session.scalars(
        select(CampaignLead)
        .where(pending, CampaignLead.due_at.is_(None))
        .order_by(CampaignLead.seq)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    if len(fresh) >= limit:
        return list(fresh)
    again = session.scalars(
        select(CampaignLead)
        .where(pending, CampaignLead.due_at <= now)
        .order_by(CampaignLead.due_at, CampaignLead.seq)
        .limit(limit - len(fresh))
        .with_for_update(skip_locked=True)
    ).all()
    return [*fresh, *again]


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


def campaign_by_id(session: Session, campaign_id: str) -> Campaign:
    return session.scalars(select(Campaign).where(Campaign.id == campaign_id)).one()


def lead_by_id(session: Session, lead_id: str) -> CampaignLead:
    return session.scalars(select(CampaignLead).where(CampaignLead.id == lead_id)).one()
