"""Outbound campaigns under `/v1/campaigns`.

A campaign is created in draft with its agent, caller-ID number and settings; leads are
uploaded as CSV (streamed to a spool file, then imported by `app.outbound.leads`: bad rows are
reported by line and reason while the good ones are kept); `start` hands it to the dialer.
"""

from __future__ import annotations

import asyncio
import tempfile
from typing import IO, Any

from fastapi import APIRouter, Request, status
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from app.api.analytics import ANSWERED_OUTCOMES
from app.api.deps import OrganizationDep, Principal, PrincipalDep, SessionDep, audit, get_database
from app.api.errors import api_error, not_found
from app.api.openapi import error_responses
from app.api.times import unix, unix_or_none
from app.db import call_attempts as attempt_rows
from app.db import campaigns as campaign_queries
from app.db import phone_numbers as number_queries
from app.db.agents import get_agent
from app.db.models import CallAttempt, Campaign, PhoneNumber, utc_now
from app.db.session import Database
from app.outbound import campaign_runs, campaign_settings
from app.outbound.campaign_settings import CampaignSettings
from app.outbound.leads import CampaignClosedError, CampaignNotFoundError, import_leads
from campaigns.campaign import InvalidCampaignError, check_caller_id
from campaigns.leads_csv import LeadsFileError
from campaigns.states import CampaignState

router = APIRouter(tags=["campaigns"])

MAX_LEADS_FILE_BYTES = 64 * 1024 * 1024
SPOOL_IN_MEMORY_BYTES = 1024 * 1024


class CampaignCreateRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    agent_id: str = Field(min_length=1, max_length=64)
    agent_phone_number_id: str = Field(min_length=1, max_length=64)
    settings: CampaignSettings = Field(default_factory=CampaignSettings)


class CampaignProgress(BaseModel):
    leads_total: int
    leads_pending: int
    leads_calling: int
    leads_finished: int
    # Leads called at least once; leads whose call was picked up, by a person or a machine (as
    # the analytics funnel counts them).
    leads_dialed: int
    leads_answered: int
    attempts: int
    attempts_in_progress: int
    outcomes: dict[str, int]


class CampaignResponse(BaseModel):
    campaign_id: str
    name: str
    agent_id: str
    agent_phone_number_id: str
    state: str
    settings: dict[str, Any]
    created_at_unix_secs: int
    completed_at_unix_secs: int | None
    progress: CampaignProgress


class BadRowResponse(BaseModel):
    line: int
    reason: str


class LeadsUploadResponse(BaseModel):
    imported: int
    duplicates_skipped: int
    rejected: int
    rejected_rows: list[BadRowResponse]
    # New numbers not imported because the campaign holds its maximum (VELOX_MAX_LEADS_PER_
    # CAMPAIGN): start another campaign for them.
    over_cap: int = 0
    max_leads: int


class AttemptResponse(BaseModel):
    attempt_id: str
    lead_id: str
    number: int
    status: str
    conversation_id: str
    call_sid: str | None
    outcome: str | None
    detail: str
    claimed_at_unix_secs: int
    ended_at_unix_secs: int | None


def _response(session: Session, campaign: Campaign) -> CampaignResponse:
    counts = campaign_queries.progress(session, campaign.id, ANSWERED_OUTCOMES)
    return CampaignResponse(
        campaign_id=campaign.id,
        name=campaign.name,
        agent_id=campaign.agent_id,
        agent_phone_number_id=campaign.phone_number_id,
        state=campaign.state,
        settings=campaign.settings,
        created_at_unix_secs=unix(campaign.created_at),
        completed_at_unix_secs=unix_or_none(campaign.completed_at),
        progress=CampaignProgress(
            leads_total=sum(counts.leads.values()),
            leads_pending=counts.leads.get("pending", 0),
            leads_calling=counts.leads.get("calling", 0),
            leads_finished=counts.leads.get("finished", 0),
            leads_dialed=counts.leads_dialed,
            leads_answered=counts.leads_answered,
            attempts=counts.attempts,
            attempts_in_progress=counts.attempts_in_progress,
            outcomes=counts.outcomes,
        ),
    )


def _campaign(session: Session, organization_id: str, campaign_id: str) -> Campaign:
    campaign = campaign_queries.get_campaign(session, organization_id, campaign_id)
    if campaign is None:
        raise not_found("campaign", campaign_id)
    return campaign


# The numbers' providers that place calls out (`workers/dialer.py` dials through each).
OUTBOUND_PROVIDERS = frozenset({"twilio", "sip_trunk"})


def caller_number(
    session: Session, organization_id: str, agent_id: str, phone_number_id: str
) -> PhoneNumber:
    """The number an outbound campaign calls from (a Twilio number, or a SIP-trunk number with
    an outbound trunk), its agent checked too; else 404/422."""
    if get_agent(session, organization_id, agent_id) is None:
        raise not_found("agent", agent_id)
    number = number_queries.get_phone_number(session, organization_id, phone_number_id)
    if number is None:
        raise not_found("phone_number", phone_number_id)
    if number.provider not in OUTBOUND_PROVIDERS:
        raise api_error(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            "unsupported_provider",
            f"outbound calls go through Twilio or SIP-trunk numbers; {number.phone_number} is a "
            f"{number.provider} number",
        )
    if number.provider == "sip_trunk" and not number.outbound_trunk:
        raise api_error(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            "no_outbound_trunk",
            f"{number.phone_number} has no outbound_trunk_config: set its trunk's address first",
        )
    try:  # the dialer's own rule, checked here so a campaign that could never dial is refused
        check_caller_id(number.phone_number)
    except InvalidCampaignError as error:
        raise api_error(
            status.HTTP_422_UNPROCESSABLE_CONTENT, "invalid_caller_id", str(error)
        ) from None
    return number


@router.post("/v1/campaigns", status_code=status.HTTP_201_CREATED, responses=error_responses(404))
def create_campaign(
    body: CampaignCreateRequest, session: SessionDep, principal: PrincipalDep
) -> CampaignResponse:
    organization = principal.organization
    number = caller_number(session, organization.id, body.agent_id, body.agent_phone_number_id)
    campaign = campaign_queries.create_campaign(
        session,
        organization.id,
        name=body.name,
        agent_id=body.agent_id,
        phone_number_id=number.id,
        state=CampaignState.DRAFT.value,
        settings=body.settings.model_dump(mode="json"),
    )
    audit(session, principal, "created", "campaign", campaign.id, name=body.name)
    return _response(session, campaign)


@router.get("/v1/campaigns")
def list_campaigns(session: SessionDep, organization: OrganizationDep) -> list[CampaignResponse]:
    return [
        _response(session, c) for c in campaign_queries.list_campaigns(session, organization.id)
    ]


@router.get("/v1/campaigns/{campaign_id}")
def get_campaign(
    campaign_id: str, session: SessionDep, organization: OrganizationDep
) -> CampaignResponse:
    return _response(session, _campaign(session, organization.id, campaign_id))


@router.get("/v1/campaigns/{campaign_id}/attempts")
def list_attempts(
    campaign_id: str, session: SessionDep, organization: OrganizationDep
) -> list[AttemptResponse]:
    _campaign(session, organization.id, campaign_id)
    return [_attempt(a) for a in attempt_rows.list_attempts(session, organization.id, campaign_id)]


def _attempt(attempt: CallAttempt) -> AttemptResponse:
    return AttemptResponse(
        attempt_id=attempt.id,
        lead_id=attempt.lead_id,
        number=attempt.number,
        status=attempt.status,
        conversation_id=attempt.conversation_id,
        call_sid=attempt.call_sid,
        outcome=attempt.outcome,
        detail=attempt.detail,
        claimed_at_unix_secs=unix(attempt.claimed_at),
        ended_at_unix_secs=unix_or_none(attempt.ended_at),
    )


@router.post(
    "/v1/campaigns/{campaign_id}/leads",
    responses=error_responses(409, 413),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"text/csv": {"schema": {"type": "string"}}},
        }
    },
)
async def upload_leads(
    campaign_id: str, request: Request, principal: PrincipalDep
) -> LeadsUploadResponse:
    """The body is the CSV itself (`text/csv`): a header with a phone number column, then one
    lead per row; a `timezone` column names the lead's zone, others become prompt variables."""
    database = get_database(request)
    with tempfile.SpooledTemporaryFile(SPOOL_IN_MEMORY_BYTES, mode="w+b") as spool:
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > MAX_LEADS_FILE_BYTES:
                raise api_error(
                    status.HTTP_413_CONTENT_TOO_LARGE,
                    "file_too_large",
                    f"a leads file may hold at most {MAX_LEADS_FILE_BYTES // 2**20} MiB; "
                    "split it and upload the parts",
                )
            spool.write(chunk)
        spool.seek(0)
        max_leads = request.app.state.settings.max_leads_per_campaign
        return await asyncio.to_thread(
            _imported, database, principal, campaign_id, spool, max_leads
        )


def _imported(
    database: Database, principal: Principal, campaign_id: str, spool: IO[bytes], max_leads: int
) -> LeadsUploadResponse:
    try:
        result = import_leads(database, principal.organization.id, campaign_id, spool, max_leads)
    except CampaignNotFoundError:
        raise not_found("campaign", campaign_id) from None
    except CampaignClosedError as error:
        raise api_error(status.HTTP_409_CONFLICT, "invalid_state", str(error)) from None
    except LeadsFileError as error:
        raise api_error(
            status.HTTP_422_UNPROCESSABLE_CONTENT, "invalid_leads_file", str(error)
        ) from None
    with database.session() as session:
        audit(
            session,
            principal,
            "changed",
            "campaign",
            campaign_id,
            leads_imported=result.imported,
            rejected=result.rejected,
        )
    return LeadsUploadResponse(
        imported=result.imported,
        duplicates_skipped=result.duplicates_skipped,
        rejected=result.rejected,
        rejected_rows=[BadRowResponse(line=b.line, reason=b.reason) for b in result.bad_rows],
        over_cap=result.over_cap,
        max_leads=max_leads,
    )


# Each action: the states it moves through, in order (start goes through scheduled).
_ACTIONS: dict[str, tuple[CampaignState, ...]] = {
    "start": (CampaignState.SCHEDULED, CampaignState.RUNNING),
    "pause": (CampaignState.PAUSED,),
    "resume": (CampaignState.RUNNING,),
    "cancel": (CampaignState.CANCELLED,),
}


def _change_state(
    session: Session, principal: Principal, campaign_id: str, action: str
) -> CampaignResponse:
    organization_id = principal.organization.id
    steps = _ACTIONS[action]
    # Locked, so a tick completing or starting it cannot interleave with this change.
    campaign = campaign_queries.get_campaign_for_update(session, organization_id, campaign_id)
    if campaign is None:
        raise not_found("campaign", campaign_id)
    if action == "start":
        starts_at = campaign_settings.settings_of(campaign).starts_at
        if starts_at is not None and starts_at > utc_now():
            steps = steps[:1]  # the dialer's tick starts it at its start time
    try:
        for target in steps:
            campaign_runs.change_state(session, campaign, target)
    except campaign_runs.CampaignStateError as error:
        raise api_error(status.HTTP_409_CONFLICT, "invalid_state", str(error)) from None
    audit(
        session, principal, "changed", "campaign", campaign_id, request=action, state=campaign.state
    )
    return _response(session, campaign)


@router.post("/v1/campaigns/{campaign_id}/start", responses=error_responses(409))
def start_campaign(
    campaign_id: str, session: SessionDep, principal: PrincipalDep
) -> CampaignResponse:
    """Draft → running (or scheduled, until its start time)."""
    return _change_state(session, principal, campaign_id, "start")


@router.post("/v1/campaigns/{campaign_id}/pause", responses=error_responses(409))
def pause_campaign(
    campaign_id: str, session: SessionDep, principal: PrincipalDep
) -> CampaignResponse:
    return _change_state(session, principal, campaign_id, "pause")


@router.post("/v1/campaigns/{campaign_id}/resume", responses=error_responses(409))
def resume_campaign(
    campaign_id: str, session: SessionDep, principal: PrincipalDep
) -> CampaignResponse:
    return _change_state(session, principal, campaign_id, "resume")


@router.post("/v1/campaigns/{campaign_id}/cancel", responses=error_responses(409))
def cancel_campaign(
    campaign_id: str, session: SessionDep, principal: PrincipalDep
) -> CampaignResponse:
    return _change_state(session, principal, campaign_id, "cancel")
