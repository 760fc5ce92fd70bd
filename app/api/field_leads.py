"""A field agent's own leads and call backs (`/v1/me/...`): the outcome they record for a lead,
the AI call they ask for, the agents they may talk to. Managers see a campaign's leads through
`campaign_leads.py`; both show leads as `lead_views.py` does.

The rules are in `app/outbound/field_leads.py`; the rows in `app/db/field_leads.py`.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Header, Query, Request, status
from pydantic import BaseModel, ConfigDict, Field, StrictInt

from app.api.deps import Principal, PrincipalDep, SessionDep, get_database
from app.api.errors import api_error, not_found
from app.api.lead_views import (
    MAX_LEADS_PAGE,
    CallbackResponse,
    CallbacksPage,
    LeadResponse,
    LeadsPage,
    LeadStatus,
    after_cursor,
    callback_view,
    lead_views,
    leads_page,
)
from app.api.openapi import error_responses
from app.db import agents as agent_queries
from app.db import campaigns as campaign_queries
from app.db import field_leads as rows
from app.db import people as people_rows
from app.db.models import utc_now
from app.outbound import campaign_runs, field_leads
from app.outbound.calls import OutboundCallError, PlacedOutboundCall
from app.outbound.field_leads import NOTE_MAX_CHARS
from app.people.roles import Role, may_talk_to
from app.settings import Settings
from campaigns.outcomes import Outcome
from telephony.dialers import place_campaign_call

router = APIRouter(tags=["field leads"])

MAX_CALLBACKS = 500
FieldOutcome = Literal[
    "meeting_booked",
    "interested",
    "not_interested",
    "call_back",
    "wrong_number",
    "do_not_call",
    "completed",
]


class OutcomeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    outcome: FieldOutcome
    note: str = Field(default="", max_length=NOTE_MAX_CHARS)
    # Required with `call_back`: when to call the lead back.
    call_back_at_unix: StrictInt | None = Field(default=None, ge=0, le=2**33)


class AgentChoice(BaseModel):
    agent_id: str
    name: str


class AgentChoices(BaseModel):
    agents: list[AgentChoice]


def user_id_of(principal: Principal) -> str:
    """The signed-in person; an API key has no leads of its own."""
    if principal.user_id is None:
        raise api_error(
            status.HTTP_400_BAD_REQUEST,
            "not_a_user",
            "this route answers for a signed-in person; an API key has no leads or call backs",
        )
    return principal.user_id


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
        after_seq=after_cursor(cursor),
        limit=page_size + 1,
        status=status_filter,
    )
    return leads_page(session, leads, page_size)


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
    leads = lead_views(session, [lead for _, lead in found])
    return CallbacksPage(
        callbacks=[
            CallbackResponse(**callback_view(callback).model_dump(), lead=view)
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
    return lead_views(session, [lead])[0]


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
        with database.session() as session:  # committed before the carrier is asked
            return campaign_runs.begin_dial(session, attempt_id, asked_by_a_person=True)

    try:
        order = await asyncio.to_thread(claim)
    except field_leads.LeadCallRefusedError as refused:
        raise api_error(status.HTTP_409_CONFLICT, refused.reason, str(refused)) from None
    if order is None:  # taken by another request between the two transactions
        raise api_error(status.HTTP_409_CONFLICT, "lead_busy", "the lead is already being called")
    settings: Settings = request.app.state.settings
    try:
        placed = await place_campaign_call(database, settings, order.outbound_call())
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
        message="Success" if placed.call_sid else placed.error or "the carrier refused the call",
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
