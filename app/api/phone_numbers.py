"""ElevenLabs-compatible phone numbers under ``/v1/convai/phone-numbers``: which agent answers."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, HTTPException, Request, status
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from app.api.deps import OrganizationDep, PrincipalDep, SessionDep, audit
from app.api.errors import api_error, not_found
from app.api.openapi import error_responses
from app.config import sip_trunks
from app.config.credentials import CredentialBox
from app.config.sip_trunks import InboundTrunkConfig, OutboundTrunkConfig, TrunkConfigError
from app.db import phone_numbers as number_queries
from app.db.agents import get_agent
from app.db.models import PhoneNumber

router = APIRouter(prefix="/v1/convai/phone-numbers", tags=["phone numbers"])

E164_PATTERN = r"^\+[1-9]\d{6,14}$"


class PhoneNumberCreateRequest(BaseModel):
    """ElevenLabs' import body. Twilio credentials come from Velox settings, not the body. A
    `sip_trunk` number answers SIP calls whose Request-URI (or To) is that number, from the
    addresses and with the digest credentials of its `inbound_trunk_config` (anyone when it has
    none), and places calls out through its `outbound_trunk_config`."""

    model_config = ConfigDict(extra="ignore")

    phone_number: str = Field(pattern=E164_PATTERN)
    label: str = Field(default="", max_length=200)
    provider: Literal["twilio", "sip_trunk"] = "twilio"
    agent_id: str | None = None
    inbound_trunk_config: InboundTrunkConfig | None = None
    outbound_trunk_config: OutboundTrunkConfig | None = None


class PhoneNumberUpdateRequest(BaseModel):
    """Only the fields sent change; trunk credentials without a password keep the stored one."""

    model_config = ConfigDict(extra="ignore")

    agent_id: str | None = None
    label: str | None = Field(default=None, max_length=200)
    inbound_trunk_config: InboundTrunkConfig | None = None
    outbound_trunk_config: OutboundTrunkConfig | None = None


class CreatePhoneNumberResponse(BaseModel):
    phone_number_id: str


class AssignedAgent(BaseModel):
    agent_id: str
    agent_name: str


class InboundTrunkView(BaseModel):
    """ElevenLabs' inbound trunk as shown: never the password."""

    allowed_addresses: list[str]
    allowed_numbers: list[str] | None = None
    media_encryption: str
    has_auth_credentials: bool
    username: str | None = None
    remote_domains: list[str] | None = None
    attributes_to_headers: dict[str, str] | None = None


class OutboundTrunkView(BaseModel):
    """ElevenLabs' outbound trunk as shown: never the password."""

    address: str
    transport: str
    media_encryption: str
    headers: dict[str, str] | None = None
    attributes_to_headers: dict[str, str] | None = None
    has_auth_credentials: bool
    username: str | None = None
    enabled_codecs: list[str] | None = None


class PhoneNumberResponse(BaseModel):
    phone_number_id: str
    phone_number: str
    label: str
    provider: str
    assigned_agent: AssignedAgent | None
    # sip_trunk numbers only (ElevenLabs' names; `provider_config` repeats the outbound trunk).
    inbound_trunk: InboundTrunkView | None = None
    outbound_trunk: OutboundTrunkView | None = None
    provider_config: OutboundTrunkView | None = None


def _response(session: Session, organization_id: str, record: PhoneNumber) -> PhoneNumberResponse:
    agent = get_agent(session, organization_id, record.agent_id) if record.agent_id else None
    inbound = sip_trunks.shown(record.inbound_trunk)
    outbound = sip_trunks.shown(record.outbound_trunk)
    outbound_view = OutboundTrunkView(**outbound) if outbound else None
    return PhoneNumberResponse(
        phone_number_id=record.id,
        phone_number=record.phone_number,
        label=record.label,
        provider=record.provider,
        assigned_agent=AssignedAgent(agent_id=agent.id, agent_name=agent.name) if agent else None,
        inbound_trunk=InboundTrunkView(**inbound) if inbound else None,
        outbound_trunk=outbound_view,
        provider_config=outbound_view,
    )


def _box(request: Request) -> CredentialBox:
    return CredentialBox(request.app.state.settings.signing_secret())


def _trunks(
    request: Request,
    provider: str,
    inbound: InboundTrunkConfig | None,
    outbound: OutboundTrunkConfig | None,
    previous: PhoneNumber | None = None,
) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """The trunk configurations to store, or a 422 that says what Velox cannot honour."""
    if inbound is None and outbound is None:
        return None, None
    if provider != "sip_trunk":
        raise api_error(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            "trunk_config_not_sip_trunk",
            f"inbound_trunk_config and outbound_trunk_config belong to sip_trunk numbers; this "
            f"is a {provider} number",
        )
    box = _box(request)
    old_inbound = previous.inbound_trunk if previous else None
    old_outbound = previous.outbound_trunk if previous else None
    try:
        return (
            None if inbound is None else sip_trunks.stored_inbound(inbound, old_inbound, box),
            None if outbound is None else sip_trunks.stored_outbound(outbound, old_outbound, box),
        )
    except TrunkConfigError as error:
        raise _unsupported(error) from error


def _unsupported(error: TrunkConfigError) -> HTTPException:
    return api_error(status.HTTP_422_UNPROCESSABLE_CONTENT, "trunk_config_unsupported", str(error))


@router.post("", response_model=CreatePhoneNumberResponse, responses=error_responses(404, 409, 422))
def create_phone_number(
    body: PhoneNumberCreateRequest,
    principal: PrincipalDep,
    session: SessionDep,
    request: Request,
) -> CreatePhoneNumberResponse:
    """Register a Twilio or SIP-trunk number so inbound calls to it reach the assigned agent."""
    organization = principal.organization
    inbound, outbound = _trunks(
        request, body.provider, body.inbound_trunk_config, body.outbound_trunk_config
    )
    try:
        record = number_queries.create_phone_number(
            session,
            organization.id,
            phone_number=body.phone_number,
            label=body.label,
            provider=body.provider,
            agent_id=body.agent_id,
            inbound_trunk=inbound,
            outbound_trunk=outbound,
        )
    except number_queries.PhoneNumberTakenError as error:
        raise api_error(status.HTTP_409_CONFLICT, "phone_number_unavailable", str(error)) from error
    except number_queries.UnknownAgentError as error:
        raise not_found("agent", body.agent_id or "") from error
    audit(
        session, principal, "created", "phone_number", record.id, phone_number=record.phone_number
    )
    return CreatePhoneNumberResponse(phone_number_id=record.id)


@router.get("", response_model=list[PhoneNumberResponse])
def list_phone_numbers(
    organization: OrganizationDep, session: SessionDep
) -> list[PhoneNumberResponse]:
    records = number_queries.list_phone_numbers(session, organization.id)
    return [_response(session, organization.id, record) for record in records]


@router.get("/{phone_number_id}", response_model=PhoneNumberResponse)
def get_phone_number(
    phone_number_id: str, organization: OrganizationDep, session: SessionDep
) -> PhoneNumberResponse:
    record = number_queries.get_phone_number(session, organization.id, phone_number_id)
    if record is None:
        raise not_found("phone_number", phone_number_id)
    return _response(session, organization.id, record)


@router.patch("/{phone_number_id}", response_model=PhoneNumberResponse)
def update_phone_number(
    phone_number_id: str,
    body: PhoneNumberUpdateRequest,
    principal: PrincipalDep,
    session: SessionDep,
    request: Request,
) -> PhoneNumberResponse:
    """Assign the agent that answers this number (``agent_id: null`` unassigns it), change its
    label or replace its trunk configurations; fields left out stay as they are."""
    organization = principal.organization
    existing = number_queries.get_phone_number(session, organization.id, phone_number_id)
    if existing is None:
        raise not_found("phone_number", phone_number_id)
    inbound, outbound = _trunks(
        request,
        existing.provider,
        body.inbound_trunk_config,
        body.outbound_trunk_config,
        existing,
    )
    try:
        record = number_queries.update_phone_number(
            session,
            organization.id,
            phone_number_id,
            agent_id=body.agent_id,
            label=body.label,
            assign_agent="agent_id" in body.model_fields_set,
            inbound_trunk=inbound,
            outbound_trunk=outbound,
        )
    except number_queries.UnknownAgentError as error:
        raise not_found("agent", body.agent_id or "") from error
    if record is None:
        raise not_found("phone_number", phone_number_id)
    audit(
        session,
        principal,
        "changed",
        "phone_number",
        phone_number_id,
        fields=sorted(body.model_dump(exclude_unset=True)),
    )
    return _response(session, organization.id, record)


@router.delete("/{phone_number_id}")
def delete_phone_number(
    phone_number_id: str, principal: PrincipalDep, session: SessionDep
) -> dict[str, Any]:
    organization = principal.organization
    if not number_queries.delete_phone_number(session, organization.id, phone_number_id):
        raise not_found("phone_number", phone_number_id)
    audit(session, principal, "deleted", "phone_number", phone_number_id)
    return {}
