"""Leads as the API shows them, to their owner and to managers alike: each with its campaign,
its last call and what came of it, its owner's last report and its next call back (five queries
for a page, whatever its size), in pages linked by a cursor."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from pydantic import BaseModel
from sqlalchemy.orm import Session

from app.api.call_filters import rejected
from app.api.times import unix, unix_or_none
from app.db import field_leads as rows
from app.db.models import CampaignLead, LeadCallback
from app.db.paging import InvalidCursorError, decode_cursor, encode_cursor

MAX_LEADS_PAGE = 500
LeadStatus = Literal["pending", "calling", "finished"]


class LastCallView(BaseModel):
    conversation_id: str
    attempt_number: int
    # The analysis' outcome once it is known, else the dial's (no_answer, busy...).
    outcome: str | None
    status: str | None
    start_time_unix_secs: int | None
    duration_secs: float | None
    summary: str
    title: str
    data_collected: dict[str, Any]
    call_back_at_unix_secs: int | None


class LeadReportView(BaseModel):
    outcome: str
    note: str
    call_back_at_unix_secs: int | None
    recorded_at_unix_secs: int
    recorded_by: str | None


class CallbackView(BaseModel):
    callback_id: str
    due_at_unix_secs: int
    # call (the lead asked the agent in a call), field_agent (written down by the owner)
    source: str
    conversation_id: str | None
    note: str


class LeadResponse(BaseModel):
    lead_id: str
    campaign_id: str
    campaign_name: str
    phone_number: str
    time_zone: str | None
    variables: dict[str, Any]
    # pending (the dialer calls it next at next_attempt_unix_secs), calling, finished
    status: str
    finished_reason: str
    attempts_made: int
    next_attempt_unix_secs: int | None
    last_outcome: str | None
    owner_email: str | None
    last_call: LastCallView | None
    last_report: LeadReportView | None
    next_callback: CallbackView | None


class LeadsPage(BaseModel):
    leads: list[LeadResponse]
    next_cursor: str | None


class CallbackResponse(CallbackView):
    lead: LeadResponse


class CallbacksPage(BaseModel):
    callbacks: list[CallbackResponse]


def lead_views(session: Session, leads: Sequence[CampaignLead]) -> list[LeadResponse]:
    """The leads with their campaign, last call, last report and next call back (five queries
    for the page, whatever its size)."""
    ids = [lead.id for lead in leads]
    names = rows.campaign_names(session, {lead.campaign_id for lead in leads})
    calls = rows.last_calls(session, ids)
    reports = rows.last_reports(session, ids)
    callbacks = rows.open_callbacks_of_leads(session, ids)
    people = rows.users_by_id(
        session,
        {lead.owner_user_id for lead in leads if lead.owner_user_id}
        | {r.user_id for r in reports.values() if r.user_id},
    )
    views = []
    for lead in leads:
        call, report, callback = calls.get(lead.id), reports.get(lead.id), callbacks.get(lead.id)
        owner = people.get(lead.owner_user_id) if lead.owner_user_id else None
        reporter = people.get(report.user_id) if report and report.user_id else None
        views.append(
            LeadResponse(
                lead_id=lead.id,
                campaign_id=lead.campaign_id,
                campaign_name=names.get(lead.campaign_id, ""),
                phone_number=lead.phone_number,
                time_zone=lead.time_zone,
                variables=dict(lead.variables),
                status=lead.status,
                finished_reason=lead.finished_reason,
                attempts_made=lead.attempts_made,
                next_attempt_unix_secs=unix_or_none(lead.due_at)
                if lead.status == "pending"
                else None,
                last_outcome=lead.last_outcome,
                owner_email=owner.email if owner else None,
                last_call=None
                if call is None
                else LastCallView(
                    conversation_id=call.conversation_id,
                    attempt_number=call.attempt_number,
                    outcome=call.analysis_outcome or call.attempt_outcome,
                    status=call.call_status,
                    start_time_unix_secs=unix_or_none(call.started_at),
                    duration_secs=call.duration_secs,
                    summary=call.summary,
                    title=call.title,
                    data_collected=call.data,
                    call_back_at_unix_secs=unix_or_none(call.call_back_at),
                ),
                last_report=None
                if report is None
                else LeadReportView(
                    outcome=report.outcome,
                    note=report.note,
                    call_back_at_unix_secs=unix_or_none(report.call_back_at),
                    recorded_at_unix_secs=unix(report.created_at),
                    recorded_by=reporter.email if reporter else None,
                ),
                next_callback=callback_view(callback) if callback else None,
            )
        )
    return views


def callback_view(callback: LeadCallback) -> CallbackView:
    return CallbackView(
        callback_id=callback.id,
        due_at_unix_secs=unix(callback.due_at),
        source=callback.source,
        conversation_id=callback.conversation_id,
        note=callback.note,
    )


def after_cursor(cursor: str | None) -> int:
    try:
        return decode_cursor(cursor) if cursor else 0
    except InvalidCursorError as error:
        raise rejected("invalid_cursor", str(error)) from error


def leads_page(session: Session, leads: list[CampaignLead], page_size: int) -> LeadsPage:
    shown = leads[:page_size]
    more = len(leads) > page_size
    return LeadsPage(
        leads=lead_views(session, shown),
        next_cursor=encode_cursor(shown[-1].seq) if more else None,
    )
