"""Leads assigned to field agents: who owns a lead, the owner's lists (leads, call backs), each
lead's last call, and the outcomes and call backs people record.

The rules (who may record what, what an outcome does to the dialer) are in
`app/outbound/field_leads.py`; this module only reads and writes the rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from app.db.models import (
    Call,
    CallAnalysis,
    CallAttempt,
    Campaign,
    CampaignLead,
    LeadCallback,
    LeadReport,
    User,
    new_id,
)

FIELD_AGENT_ROLE = "field_agent"


def field_agents_by_email(session: Session, organization_id: str) -> dict[str, str]:
    """The organization's field agents who may be given leads (not disabled): e-mail → id."""
    rows = session.execute(
        select(User.email, User.id).where(
            User.organization_id == organization_id,
            User.role == FIELD_AGENT_ROLE,
            User.disabled_at.is_(None),
        )
    )
    return {email: user_id for email, user_id in rows}


def users_by_id(session: Session, user_ids: Iterable[str]) -> dict[str, User]:
    wanted = set(user_ids)
    if not wanted:
        return {}
    return {user.id: user for user in session.scalars(select(User).where(User.id.in_(wanted)))}


def lead_of_campaign(
    session: Session, organization_id: str, campaign_id: str, lead_id: str
) -> CampaignLead | None:
    return session.scalar(
        select(CampaignLead).where(
            CampaignLead.id == lead_id,
            CampaignLead.campaign_id == campaign_id,
            CampaignLead.organization_id == organization_id,
        )
    )


def lock_owned_lead(
    session: Session, organization_id: str, owner_user_id: str, lead_id: str
) -> CampaignLead | None:
    """The owner's lead, locked (a dialer tick skips a locked lead) until the transaction ends."""
    return session.scalar(
        select(CampaignLead)
        .where(
            CampaignLead.id == lead_id,
            CampaignLead.organization_id == organization_id,
            CampaignLead.owner_user_id == owner_user_id,
        )
        .with_for_update()
    )


def campaign_leads_page(
    session: Session,
    campaign_id: str,
    *,
    after_seq: int,
    limit: int,
    owner_user_id: str | None = None,
    status: str | None = None,
) -> list[CampaignLead]:
    """A campaign's leads in import order after `after_seq`, optionally one owner's or in one
    status."""
    query = select(CampaignLead).where(
        CampaignLead.campaign_id == campaign_id, CampaignLead.seq > after_seq
    )
    if owner_user_id is not None:
        query = query.where(CampaignLead.owner_user_id == owner_user_id)
    if status is not None:
        query = query.where(CampaignLead.status == status)
    return list(session.scalars(query.order_by(CampaignLead.seq).limit(limit)))


def owned_leads_page(
    session: Session,
    organization_id: str,
    owner_user_id: str,
    *,
    after_seq: int,
    limit: int,
    status: str | None = None,
) -> list[CampaignLead]:
    """A field agent's leads, oldest assignment first (by import order), after `after_seq`."""
    query = select(CampaignLead).where(
        CampaignLead.organization_id == organization_id,
        CampaignLead.owner_user_id == owner_user_id,
        CampaignLead.seq > after_seq,
    )
    if status is not None:
        query = query.where(CampaignLead.status == status)
    return list(session.scalars(query.order_by(CampaignLead.seq).limit(limit)))


def campaign_names(session: Session, campaign_ids: Iterable[str]) -> dict[str, str]:
    wanted = set(campaign_ids)
    if not wanted:
        return {}
    rows = session.execute(select(Campaign.id, Campaign.name).where(Campaign.id.in_(wanted)))
    return {campaign_id: name for campaign_id, name in rows}


@dataclass(frozen=True, slots=True)
class LastCall:
    """A lead's latest dial and what came of it."""

    conversation_id: str
    attempt_number: int
    attempt_outcome: str | None
    started_at: datetime | None
    duration_secs: float | None
    call_status: str | None
    summary: str
    title: str
    analysis_outcome: str | None
    data: dict[str, Any]
    call_back_at: datetime | None


def last_calls(session: Session, lead_ids: Sequence[str]) -> dict[str, LastCall]:
    """Each lead's latest attempt with its call and the call's analysis, in one query."""
    if not lead_ids:
        return {}
    latest = (
        select(CallAttempt.lead_id, func.max(CallAttempt.number).label("number"))
        .where(CallAttempt.lead_id.in_(lead_ids))
        .group_by(CallAttempt.lead_id)
        .subquery()
    )
    rows = session.execute(
        select(CallAttempt, Call, CallAnalysis)
        .join(
            latest,
            (CallAttempt.lead_id == latest.c.lead_id) & (CallAttempt.number == latest.c.number),
        )
        .outerjoin(Call, Call.id == CallAttempt.conversation_id)
        .outerjoin(CallAnalysis, CallAnalysis.call_id == CallAttempt.conversation_id)
    )
    found: dict[str, LastCall] = {}
    for attempt, call, analysis in rows:
        found[attempt.lead_id] = LastCall(
            conversation_id=attempt.conversation_id,
            attempt_number=attempt.number,
            attempt_outcome=attempt.outcome,
            started_at=call.started_at if call is not None else None,
            duration_secs=call.duration_secs if call is not None else None,
            call_status=call.status if call is not None else None,
            summary=analysis.summary if analysis is not None else "",
            title=analysis.title if analysis is not None else "",
            analysis_outcome=analysis.outcome if analysis is not None else None,
            data=dict(analysis.data) if analysis is not None else {},
            call_back_at=analysis.call_back_at if analysis is not None else None,
        )
    return found


def last_reports(session: Session, lead_ids: Sequence[str]) -> dict[str, LeadReport]:
    """Each lead's latest recorded outcome."""
    if not lead_ids:
        return {}
    latest = (
        select(func.max(LeadReport.seq))
        .where(LeadReport.lead_id.in_(lead_ids))
        .group_by(LeadReport.lead_id)
    )
    reports = session.scalars(select(LeadReport).where(LeadReport.seq.in_(latest)))
    return {report.lead_id: report for report in reports}


def open_callbacks_of_leads(session: Session, lead_ids: Sequence[str]) -> dict[str, LeadCallback]:
    """Each lead's earliest open call back."""
    if not lead_ids:
        return {}
    callbacks = session.scalars(
        select(LeadCallback)
        .where(LeadCallback.lead_id.in_(lead_ids), LeadCallback.status == "open")
        .order_by(LeadCallback.due_at.desc())
    )
    return {callback.lead_id: callback for callback in callbacks}  # the earliest is written last


def open_callbacks_of_owner(
    session: Session,
    organization_id: str,
    owner_user_id: str,
    *,
    due_before: datetime | None,
    limit: int,
) -> list[tuple[LeadCallback, CampaignLead]]:
    """The owner's open call backs, soonest first, with their leads."""
    query = (
        select(LeadCallback, CampaignLead)
        .join(CampaignLead, CampaignLead.id == LeadCallback.lead_id)
        .where(
            LeadCallback.organization_id == organization_id,
            LeadCallback.owner_user_id == owner_user_id,
            LeadCallback.status == "open",
        )
    )
    if due_before is not None:
        query = query.where(LeadCallback.due_at < due_before)
    rows = session.execute(query.order_by(LeadCallback.due_at, LeadCallback.id).limit(limit))
    return [(callback, lead) for callback, lead in rows]


def add_callback(
    session: Session,
    lead: CampaignLead,
    due_at: datetime,
    *,
    source: str,
    conversation_id: str | None = None,
    note: str = "",
) -> LeadCallback:
    callback = LeadCallback(
        id=new_id("callback"),
        organization_id=lead.organization_id,
        lead_id=lead.id,
        owner_user_id=lead.owner_user_id,
        due_at=due_at,
        source=source,
        conversation_id=conversation_id,
        note=note,
    )
    session.add(callback)
    return callback


def close_open_callbacks(session: Session, lead_id: str, status: str, now: datetime) -> int:
    """Close the lead's open call backs as `done` or `cancelled`; returns how many."""
    closed = session.execute(
        update(LeadCallback)
        .where(LeadCallback.lead_id == lead_id, LeadCallback.status == "open")
        .values(status=status, closed_at=now)
    )
    return int(getattr(closed, "rowcount", 0))


def move_open_callbacks(session: Session, lead_id: str, owner_user_id: str) -> None:
    """A lead given to someone else takes its open call backs along."""
    session.execute(
        update(LeadCallback)
        .where(LeadCallback.lead_id == lead_id, LeadCallback.status == "open")
        .values(owner_user_id=owner_user_id)
    )


def report_with_key(session: Session, user_id: str, request_key: str) -> LeadReport | None:
    return session.scalar(
        select(LeadReport).where(
            LeadReport.user_id == user_id, LeadReport.request_key == request_key
        )
    )


def add_report(
    session: Session,
    lead: CampaignLead,
    user_id: str,
    outcome: str,
    note: str,
    call_back_at: datetime | None,
    request_key: str | None = None,
) -> LeadReport:
    report = LeadReport(
        organization_id=lead.organization_id,
        lead_id=lead.id,
        user_id=user_id,
        outcome=outcome,
        note=note,
        call_back_at=call_back_at,
        request_key=request_key,
    )
    session.add(report)
    session.flush()
    return report
