"""ElevenLabs' batch-calling API (`/v1/convai/batch-calling`), driving Velox campaigns.

A batch is a campaign with ElevenLabs' defaults: calls at any hour (in the batch's time zone,
if it names one), no automatic retries (`…/retry` re-dials the recipients nobody answered),
at most `target_concurrency_limit` calls at once. Each recipient is a lead whose dynamic
variables reach the agent's prompt. Richer settings (calling windows per lead time zone,
pacing, retry rules, voicemail) are under `/v1/campaigns`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from fastapi import APIRouter, Query, status
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from app.api.campaigns import caller_number
from app.api.deps import OrganizationDep, PrincipalDep, SessionDep, audit
from app.api.errors import api_error, not_found
from app.api.openapi import error_responses
from app.api.times import unix
from app.db import campaigns as campaign_queries
from app.db import phone_numbers as number_queries
from app.db.agents import get_agent
from app.db.campaigns import NewLead
from app.db.models import Campaign, utc_now
from app.outbound import campaign_outcomes, campaign_runs, campaign_settings
from app.outbound.campaign_settings import CampaignSettings, RetrySettings
from campaigns.phone_numbers import InvalidPhoneNumberError, normalize_phone_number
from campaigns.states import CampaignState

router = APIRouter(prefix="/v1/convai/batch-calling", tags=["batch calling"])

ALL_DAY = {day: ["00:00-24:00"] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
MAX_RECIPIENTS = 100_000
DEFAULT_CONCURRENCY = 5

BatchStatus = Literal["pending", "in_progress", "completed", "failed", "cancelled"]
_BATCH_STATUS: dict[str, BatchStatus] = {
    "draft": "pending",
    "scheduled": "pending",
    "running": "in_progress",
    "paused": "in_progress",
    "completed": "completed",
    "cancelled": "cancelled",
}
_REACHED_A_MACHINE = {"voicemail", "answered_by_machine"}


class ClientData(BaseModel):
    model_config = ConfigDict(extra="ignore")

    dynamic_variables: dict[str, str | int | float | bool] | None = None


class Recipient(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: str | None = Field(default=None, max_length=64)
    phone_number: str = Field(min_length=1, max_length=40)
    conversation_initiation_client_data: ClientData | None = None


class BatchSubmitRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    call_name: str = Field(min_length=1, max_length=200)
    agent_id: str = Field(min_length=1, max_length=64)
    agent_phone_number_id: str = Field(min_length=1, max_length=64)
    recipients: list[Recipient] = Field(min_length=1, max_length=MAX_RECIPIENTS)
    scheduled_time_unix: int | None = Field(default=None, ge=0, le=4_102_444_800)  # ≤ 2100
    timezone: str | None = Field(default=None, max_length=64)
    # Kept and shown as sent; a batch's calls follow the campaign's voicemail setting.
    telephony_call_config: dict[str, Any] | None = None
    target_concurrency_limit: int | None = Field(default=None, ge=1, le=500)


class BatchCallResponse(BaseModel):
    id: str
    phone_number_id: str | None
    phone_provider: str
    name: str
    agent_id: str
    created_at_unix: int
    scheduled_time_unix: int
    timezone: str | None
    total_calls_dispatched: int
    total_calls_scheduled: int
    total_calls_finished: int
    last_updated_at_unix: int
    status: BatchStatus
    retry_count: int
    telephony_call_config: dict[str, Any]
    target_concurrency_limit: int | None
    agent_name: str


class RecipientResponse(BaseModel):
    id: str
    phone_number: str
    status: str
    created_at_unix: int
    updated_at_unix: int
    conversation_id: str | None
    conversation_initiation_client_data: dict[str, Any] | None


class BatchCallDetailedResponse(BatchCallResponse):
    recipients: list[RecipientResponse]


class WorkspaceBatchCallsResponse(BaseModel):
    batch_calls: list[BatchCallResponse]
    next_doc: str | None
    has_more: bool


def _settings(body: BatchSubmitRequest) -> CampaignSettings:
    try:
        return CampaignSettings(
            calling_hours=ALL_DAY,
            starts_at=(
                datetime.fromtimestamp(body.scheduled_time_unix, UTC)
                if body.scheduled_time_unix
                else None
            ),
            default_time_zone=body.timezone or "UTC",
            max_concurrent_calls=body.target_concurrency_limit or DEFAULT_CONCURRENCY,
            calls_per_minute=60,
            retry=RetrySettings(rules={}),
        )
    except ValueError as error:
        raise api_error(
            status.HTTP_422_UNPROCESSABLE_CONTENT, "invalid_batch", str(error)
        ) from None


def _leads(recipients: list[Recipient]) -> list[NewLead]:
    leads = []
    for index, recipient in enumerate(recipients):
        try:
            e164 = normalize_phone_number(recipient.phone_number)
        except InvalidPhoneNumberError as error:
            raise api_error(
                status.HTTP_422_UNPROCESSABLE_CONTENT,
                "invalid_phone_number",
                f"recipients[{index}].phone_number {error}",
            ) from None
        data = recipient.conversation_initiation_client_data or ClientData()
        variables = {k: str(v) for k, v in (data.dynamic_variables or {}).items()}
        if recipient.id:
            variables["recipient_id"] = recipient.id
        leads.append(NewLead(e164, None, variables))
    return leads


@router.post("/submit", responses=error_responses(404))
def submit(
    body: BatchSubmitRequest, session: SessionDep, principal: PrincipalDep
) -> BatchCallResponse:
    organization = principal.organization
    number = caller_number(session, organization.id, body.agent_id, body.agent_phone_number_id)
    settings = _settings(body)
    leads = _leads(body.recipients)
    campaign = campaign_queries.create_campaign(
        session,
        organization.id,
        name=body.call_name,
        agent_id=body.agent_id,
        phone_number_id=number.id,
        state=CampaignState.DRAFT.value,
        settings=settings.model_dump(mode="json"),
        batch={"telephony_call_config": body.telephony_call_config or {}, "retry_count": 0},
    )
    campaign_queries.add_leads(session, campaign, leads, max_leads=MAX_RECIPIENTS)
    campaign_runs.change_state(session, campaign, CampaignState.SCHEDULED)
    if settings.starts_at is None or settings.starts_at <= utc_now():
        campaign_runs.change_state(session, campaign, CampaignState.RUNNING)
    audit(session, principal, "created", "campaign", campaign.id, name=body.call_name, batch=True)
    return _batch(session, campaign)


@router.get("/workspace")
def list_batches(
    session: SessionDep,
    organization: OrganizationDep,
    limit: int = Query(default=100, ge=1, le=100),
    last_doc: str | None = None,
) -> WorkspaceBatchCallsResponse:
    campaigns = campaign_queries.list_campaigns(session, organization.id)
    if last_doc is not None:
        ids = [c.id for c in campaigns]
        campaigns = campaigns[ids.index(last_doc) + 1 :] if last_doc in ids else []
    page = campaigns[:limit]
    has_more = len(campaigns) > limit
    return WorkspaceBatchCallsResponse(
        batch_calls=[_batch(session, c) for c in page],
        next_doc=page[-1].id if has_more and page else None,
        has_more=has_more,
    )


@router.get("/{batch_id}")
def get_batch(
    batch_id: str, session: SessionDep, organization: OrganizationDep
) -> BatchCallDetailedResponse:
    campaign = _campaign(session, organization.id, batch_id)
    summary = _batch(session, campaign)
    views = campaign_queries.leads_with_latest_attempt(session, campaign.id)
    return BatchCallDetailedResponse(
        **summary.model_dump(), recipients=[_recipient(campaign, v) for v in views]
    )


@router.post("/{batch_id}/cancel", responses=error_responses(409))
def cancel(batch_id: str, session: SessionDep, principal: PrincipalDep) -> BatchCallResponse:
    organization = principal.organization
    campaign = _campaign(session, organization.id, batch_id, lock=True)
    try:
        campaign_runs.change_state(session, campaign, CampaignState.CANCELLED)
    except campaign_runs.CampaignStateError as error:
        raise api_error(status.HTTP_409_CONFLICT, "invalid_state", str(error)) from None
    audit(session, principal, "changed", "campaign", batch_id, request="cancel")
    return _batch(session, campaign)


@router.post("/{batch_id}/retry", responses=error_responses(409))
def retry(batch_id: str, session: SessionDep, principal: PrincipalDep) -> BatchCallResponse:
    """Dial again the recipients nobody answered (no answer, busy, failed, voicemail)."""
    organization = principal.organization
    campaign = _campaign(session, organization.id, batch_id, lock=True)
    if campaign.state == CampaignState.CANCELLED.value:
        raise api_error(
            status.HTTP_409_CONFLICT, "invalid_state", "a cancelled batch cannot be retried"
        )
    campaign_outcomes.retry_unreached(session, campaign)
    campaign.batch = {**(campaign.batch or {}), "retry_count": _retry_count(campaign) + 1}
    session.flush()
    audit(session, principal, "changed", "campaign", batch_id, request="retry")
    return _batch(session, campaign)


def _campaign(
    session: Session, organization_id: str, batch_id: str, *, lock: bool = False
) -> Campaign:
    find = campaign_queries.get_campaign_for_update if lock else campaign_queries.get_campaign
    campaign = find(session, organization_id, batch_id)
    if campaign is None:
        raise not_found("batch_call", batch_id)
    return campaign


def _retry_count(campaign: Campaign) -> int:
    return int((campaign.batch or {}).get("retry_count", 0))


def _provider(session: Session, campaign: Campaign) -> str:
    """The batch's number's provider (ElevenLabs' `phone_provider`: twilio or sip_trunk)."""
    number = (
        number_queries.get_phone_number(session, campaign.organization_id, campaign.phone_number_id)
        if campaign.phone_number_id
        else None
    )
    return number.provider if number is not None else "twilio"


def _batch(session: Session, campaign: Campaign) -> BatchCallResponse:
    settings = campaign_settings.settings_of(campaign)
    counts = campaign_queries.progress(session, campaign.id)
    agent = get_agent(session, campaign.organization_id, campaign.agent_id)
    created = unix(campaign.created_at)
    return BatchCallResponse(
        id=campaign.id,
        phone_number_id=campaign.phone_number_id,
        phone_provider=_provider(session, campaign),
        name=campaign.name,
        agent_id=campaign.agent_id,
        created_at_unix=created,
        scheduled_time_unix=unix(settings.starts_at) if settings.starts_at else created,
        timezone=settings.default_time_zone,
        total_calls_dispatched=counts.attempts,
        total_calls_scheduled=sum(counts.leads.values()),
        total_calls_finished=counts.leads.get("finished", 0),
        last_updated_at_unix=unix(campaign.updated_at),
        status=_BATCH_STATUS[campaign.state],
        retry_count=_retry_count(campaign),
        telephony_call_config=dict((campaign.batch or {}).get("telephony_call_config") or {}),
        target_concurrency_limit=settings.max_concurrent_calls,
        agent_name=agent.name if agent is not None else "",
    )


def _recipient(campaign: Campaign, view: campaign_queries.LeadView) -> RecipientResponse:
    lead, attempt = view.lead, view.attempt
    updated = attempt.ended_at or attempt.dialed_at or attempt.claimed_at if attempt else None
    variables = {k: v for k, v in lead.variables.items() if k != "recipient_id"}
    return RecipientResponse(
        id=str(lead.variables.get("recipient_id") or lead.id),
        phone_number=lead.phone_number,
        status=_recipient_status(campaign, view),
        created_at_unix=unix(lead.created_at),
        updated_at_unix=unix(updated or lead.created_at),
        conversation_id=attempt.conversation_id if attempt and attempt.call_sid else None,
        conversation_initiation_client_data={"dynamic_variables": variables},
    )


def _recipient_status(campaign: Campaign, view: campaign_queries.LeadView) -> str:
    lead, attempt = view.lead, view.attempt
    if lead.status == "pending":
        return "cancelled" if campaign.state == CampaignState.CANCELLED.value else "pending"
    if lead.status == "calling" and attempt is not None:
        return {"claimed": "dispatched", "dialing": "initiated"}.get(attempt.status, "in_progress")
    if lead.last_outcome in _REACHED_A_MACHINE:
        return "voicemail"
    if lead.last_outcome in campaign_outcomes.UNREACHED_OUTCOMES or attempt is None:
        return "failed"
    return "completed"
