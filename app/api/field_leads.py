"""Leads for field agents: a field agent's own leads and call backs (`/v1/me/...`), the outcome
they record for a lead, the agents they may talk to; and, for managers, a campaign's leads with
their owners (`/v1/campaigns/{id}/leads`), given to a field agent or taken back.

The rules are in `app/outbound/field_leads.py`; the rows in `app/db/field_leads.py`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Query, Request, status
from pydantic import BaseModel, ConfigDict, Field, StrictInt
from sqlalchemy.orm import Session

from app.api.deps import Principal, PrincipalDep, SessionDep, audit, get_database
from app.api.errors import api_error, not_found
from app.api.openapi import error_responses
from app.api.times import unix, unix_or_none
from app.db import agents as agent_queries
from app.db import campaigns as campaign_queries
from app.db import field_leads as rows
from app.db import people as people_rows
from app.db.models import CampaignLead, LeadCallback, utc_now
from app.db.paging import InvalidCursorError, decode_cursor, encode_cursor
from app.outbound import campaign_runs, field_leads
from app.outbound.calls import OutboundCallError, PlacedOutboundCall
from app.outbound.field_leads import NOTE_MAX_CHARS
from app.people.roles import Role, may_talk_to
from app.settings import Settings
from campaigns.outcomes import Outcome
from telephony.twilio.outbound import place_outbound_call

router = APIRouter(tags=["field leads"])

MAX_LEADS_PAGE = 500
MAX_CALLBACKS = 500
LeadStatus = Literal["pending", "calling", "finished"]
FieldOutcome = Literal[
    "meeting_booked",
    "interested",
    "not_interested",
    "call_back",
    "wrong_number",
    "do_not_call",
    "completed",
]


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


class OutcomeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    outcome: FieldOutcome
    note: str = Field(default="", max_length=NOTE_MAX_CHARS)
    # Required with `call_back`: when to call the lead back.
    call_back_at_unix: StrictInt | None = Field(default=None, ge=0, le=2**33)


class AssignRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # The field agent's address; null takes the lead back from its owner.
    owner_email: str | None = Field(max_length=320)


class AgentChoice(BaseModel):
    agent_id: str
    name: str


class AgentChoices(BaseModel):
    agents: list[AgentChoice]


def _views(session: Session, leads: Sequence[CampaignLead]) -> list[LeadResponse]:
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
                next_callback=_callback(callback) if callback else None,
            )
        )
    return views


def _callback(callback: LeadCallback) -> CallbackView:
    return CallbackView(
        callback_id=callback.id,
        due_at_unix_secs=unix(callback.due_at),
        source=callback.source,
        conversation_id=callback.conversation_id,
        note=callback.note,
    )


def user_id_of(principal: Principal) -> str:
    """The signed-in person; an API key has no leads of its own."""
    if principal.user_id is None:
        raise api_error(
            status.HTTP_400_BAD_REQUEST,
            "not_a_user",
            "this route answers for a signed-in person; an API key has no leads or call backs",
        )
    return principal.user_id


def _after(cursor: str | None) -> int:
    try:
        return decode_cursor(cursor) if cursor else 0
    except InvalidCursorError as error:
        raise api_error(
            status.HTTP_422_UNPROCESSABLE_CONTENT, "invalid_cursor", str(error)
        ) from error


def _page(session: Session, leads: list[CampaignLead], page_size: int) -> LeadsPage:
    shown = leads[:page_size]
    more = len(leads) > page_size
    return LeadsPage(
        leads=_views(session, shown),
        next_cursor=encode_cursor(shown[-1].seq) if more else None,
    )


@router.get("/v1/me/leads", responses=error_responses(400, 422))
def my_leads(
    session: SessionDep,
    principal: PrincipalDep,
    status_filter: Annotated[LeadStatus | None, Query(alias="status")] = None,
    page_size: Annotated[int, Query(ge=1, le=MAX_LEADS_PAGE)] = 100,
    cursor: str | None = None,
) -> LeadsPage:
    """The leads assigned to me, in the order they were imported, each with its last call's
    summary, outcome and collected data, my last recorded outcome and its next call back."""
    leads = rows.owned_leads_page(
        session,
        principal.organization.id,
        user_id_of(principal),
        after_seq=_after(cursor),
        limit=page_size + 1,
        status=status_filter,
    )
    return _page(session, leads, page_size)


@router.get("/v1/me/callbacks", responses=error_responses(400))
def my_callbacks(
    session: SessionDep,
    principal: PrincipalDep,
    due_before_unix: Annotated[int | None, Query(ge=0, le=2**33)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_CALLBACKS)] = 200,
) -> CallbacksPage:
    """My open call backs, soonest first (those due before `due_before_unix`, if given), each
    with its lead."""
    due_before = (
        datetime.fromtimestamp(due_before_unix, UTC) if due_before_unix is not None else None
    )
    found = rows.open_callbacks_of_owner(
        session,
        principal.organization.id,
        user_id_of(principal),
        due_before=due_before,
        limit=limit,
    )
    leads = _views(session, [lead for _, lead in found])
    return CallbacksPage(
        callbacks=[
            CallbackResponse(**_callback(callback).model_dump(), lead=view)
            for (callback, _), view in zip(found, leads, strict=True)
        ]
    )


@router.post("/v1/me/leads/{lead_id}/outcome", responses=error_responses(400, 404, 409, 422))
def record_outcome(
    lead_id: str,
    body: OutcomeRequest,
    session: SessionDep,
    principal: PrincipalDep,
    idempotency_key: Annotated[
        str | None, Header(min_length=1, max_length=200, pattern=r"^[\x21-\x7e]+$")
    ] = None,
) -> LeadResponse:
    """Record what came of following my lead up, with a note. The lead is finished for the
    campaign's dialer; `call_back` (with `call_back_at_unix`) puts a call back on my list;
    `do_not_call` lists the number. With an `Idempotency-Key` header, the same write sent again
    (an app replaying its offline queue) is stored once."""
    user_id = user_id_of(principal)
    lead = rows.lock_owned_lead(session, principal.organization.id, user_id, lead_id)
    if lead is None:
        raise not_found("lead", lead_id)
    call_back_at = (
        datetime.fromtimestamp(body.call_back_at_unix, UTC)
        if body.call_back_at_unix is not None
        else None
    )
    try:
        field_leads.record_outcome(
            session,
            lead,
            user_id,
            principal.email or "",
            outcome=Outcome(body.outcome),
            note=body.note.strip(),
            call_back_at=call_back_at,
            now=utc_now(),
            request_key=idempotency_key,
        )
    except field_leads.LeadBusyError as error:
        raise api_error(status.HTTP_409_CONFLICT, "lead_busy", str(error)) from None
    except field_leads.InvalidLeadReportError as error:
        raise api_error(
            status.HTTP_422_UNPROCESSABLE_CONTENT, "invalid_outcome", str(error)
        ) from None
    return _views(session, [lead])[0]


class LeadCallResponse(BaseModel):
    """`success` is false when Twilio refused the call (the attempt then ended as failed)."""

    success: bool
    message: str
    conversation_id: str
    call_sid: str | None


@router.post("/v1/me/leads/{lead_id}/call", responses=error_responses(400, 404, 409, 503))
async def call_lead(lead_id: str, request: Request, principal: PrincipalDep) -> LeadCallResponse:
    """Have the campaign's agent call my lead now, from the campaign's number, with the lead's
    variables: an attempt of the campaign, refused for a number on the do-not-call list or
    outside the lead's calling hours (`409`, with why). To call in person, dial the lead's
    `phone_number` yourself."""
    user_id = user_id_of(principal)
    database = get_database(request)

    def claim() -> campaign_runs.DialOrder | None:
        with database.session() as session:
            lead = rows.lock_owned_lead(session, principal.organization.id, user_id, lead_id)
            if lead is None:
                raise not_found("lead", lead_id)
            campaign = campaign_queries.campaign_by_id(session, lead.campaign_id)
            attempt_id = field_leads.claim_lead_call(session, lead, campaign, utc_now())
        with database.session() as session:  # committed before Twilio is asked
            return campaign_runs.begin_dial(session, attempt_id, asked_by_a_person=True)

    try:
        order = await asyncio.to_thread(claim)
    except field_leads.LeadCallRefusedError as refused:
        raise api_error(status.HTTP_409_CONFLICT, refused.reason, str(refused)) from None
    if order is None:  # taken by another request between the two transactions
        raise api_error(status.HTTP_409_CONFLICT, "lead_busy", "the lead is already being called")
    settings: Settings = request.app.state.settings
    try:
        placed = await place_outbound_call(database, settings, order.outbound_call())
    except OutboundCallError as error:
        placed = PlacedOutboundCall(order.conversation_id, None, str(error))

    def record() -> None:
        with database.session() as session:
            campaign_runs.record_dial(
                session,
                order.attempt_id,
                placed.call_sid,
                placed.error,
                utc_now(),
                uncertain=placed.uncertain,
            )

    await asyncio.to_thread(record)
    return LeadCallResponse(
        success=placed.call_sid is not None,
        message="Success" if placed.call_sid else placed.error or "Twilio refused the call",
        conversation_id=placed.conversation_id,
        call_sid=placed.call_sid,
    )


@router.get("/v1/me/agents")
def my_agents(session: SessionDep, principal: PrincipalDep) -> AgentChoices:
    """The agents I may talk to (a field agent: those their admin allowed; others: all)."""
    allowed = None
    if principal.user_id is not None and principal.role is Role.FIELD_AGENT:
        user = people_rows.get_user(session, principal.organization.id, principal.user_id)
        allowed = user.agent_ids if user is not None else []
    agents = agent_queries.all_agents(session, principal.organization.id)
    return AgentChoices(
        agents=[
            AgentChoice(agent_id=agent.id, name=agent.name)
            for agent in agents
            if may_talk_to(principal.role, allowed, agent.id)
        ]
    )


@router.get("/v1/campaigns/{campaign_id}/leads", responses=error_responses(404, 422))
def campaign_leads(
    campaign_id: str,
    session: SessionDep,
    principal: PrincipalDep,
    owner_email: Annotated[str | None, Query(max_length=320)] = None,
    status_filter: Annotated[LeadStatus | None, Query(alias="status")] = None,
    page_size: Annotated[int, Query(ge=1, le=MAX_LEADS_PAGE)] = 100,
    cursor: str | None = None,
) -> LeadsPage:
    """A campaign's leads in import order, with their owners and last calls; `owner_email`
    narrows to one field agent's."""
    organization_id = principal.organization.id
    if campaign_queries.get_campaign(session, organization_id, campaign_id) is None:
        raise not_found("campaign", campaign_id)
    owner_id = None
    if owner_email is not None:
        owner_id = rows.field_agents_by_email(session, organization_id).get(
            owner_email.strip().lower()
        )
        if owner_id is None:
            return LeadsPage(leads=[], next_cursor=None)
    leads = rows.campaign_leads_page(
        session,
        campaign_id,
        after_seq=_after(cursor),
        limit=page_size + 1,
        owner_user_id=owner_id,
        status=status_filter,
    )
    return _page(session, leads, page_size)


@router.patch("/v1/campaigns/{campaign_id}/leads/{lead_id}", responses=error_responses(404, 422))
def assign_lead(
    campaign_id: str,
    lead_id: str,
    body: AssignRequest,
    session: SessionDep,
    principal: PrincipalDep,
) -> LeadResponse:
    """Give a lead to a field agent (`owner_email`), or take it back (`null`); its open call
    backs go with it."""
    lead = rows.lead_of_campaign(session, principal.organization.id, campaign_id, lead_id)
    if lead is None:
        raise not_found("lead", lead_id)
    before = lead.owner_user_id
    try:
        field_leads.assign(session, lead, body.owner_email, utc_now())
    except field_leads.UnknownOwnerError as error:
        raise api_error(
            status.HTTP_422_UNPROCESSABLE_CONTENT, "unknown_owner", str(error)
        ) from None
    if lead.owner_user_id != before:
        audit(session, principal, "changed", "lead", lead.id, owner=body.owner_email)
    return _views(session, [lead])[0]
