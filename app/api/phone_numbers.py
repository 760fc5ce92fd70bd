"""ElevenLabs-compatible phone numbers under ``/v1/convai/phone-numbers``: which agent answers."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, status
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from app.api.deps import OrganizationDep, PrincipalDep, SessionDep, audit
from app.api.errors import api_error, not_found
from app.api.openapi import error_responses
from app.db import phone_numbers as number_queries
from app.db.agents import get_agent
from app.db.models import PhoneNumber

router = APIRouter(prefix="/v1/convai/phone-numbers", tags=["phone numbers"])

E164_PATTERN = r"^\+[1-9]\d{6,14}$"


class PhoneNumberCreateRequest(BaseModel):
    """ElevenLabs' import body. Twilio credentials come from Velox settings, not the body. A
    `sip_trunk` number answers SIP calls whose Request-URI (or To) is that number, from any
    address: trunk configurations (allowed addresses, digest credentials, outbound trunks) are
    not supported yet and are refused rather than ignored."""

    model_config = ConfigDict(extra="ignore")

    phone_number: str = Field(pattern=E164_PATTERN)
    label: str = Field(default="", max_length=200)
    provider: Literal["twilio", "sip_trunk"] = "twilio"
    agent_id: str | None = None
    inbound_trunk_config: dict[str, Any] | None = None
    outbound_trunk_config: dict[str, Any] | None = None


class PhoneNumberUpdateRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    agent_id: str | None = None
    label: str | None = Field(default=None, max_length=200)


class CreatePhoneNumberResponse(BaseModel):
    phone_number_id: str


class AssignedAgent(BaseModel):
    agent_id: str
    agent_name: str


class PhoneNumberResponse(BaseModel):
    phone_number_id: str
    phone_number: str
    label: str
    provider: str
    assigned_agent: AssignedAgent | None


def _response(session: Session, organization_id: str, record: PhoneNumber) -> PhoneNumberResponse:
    agent = get_agent(session, organization_id, record.agent_id) if record.agent_id else None
    return PhoneNumberResponse(
        phone_number_id=record.id,
        phone_number=record.phone_number,
        label=record.label,
        provider=record.provider,
        assigned_agent=AssignedAgent(agent_id=agent.id, agent_name=agent.name) if agent else None,
    )


@router.post("", response_model=CreatePhoneNumberResponse, responses=error_responses(404, 409, 422))
def create_phone_number(
    body: PhoneNumberCreateRequest, principal: PrincipalDep, session: SessionDep
) -> CreatePhoneNumberResponse:
    """Register a Twilio or SIP-trunk number so inbound calls to it reach the assigned agent."""
    organization = principal.organization
    if body.inbound_trunk_config or body.outbound_trunk_config:
        raise api_error(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            "trunk_config_unsupported",
            "inbound_trunk_config and outbound_trunk_config are not supported yet: a sip_trunk "
            "number answers calls to it from any address, with no credentials. Leave them out",
        )
    try:
        record = number_queries.create_phone_number(
            session,
            organization.id,
            phone_number=body.phone_number,
            label=body.label,
            provider=body.provider,
            agent_id=body.agent_id,
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
) -> PhoneNumberResponse:
    """Assign the agent that answers this number (``agent_id: null`` unassigns it)."""
    organization = principal.organization
    try:
        record = number_queries.update_phone_number(
            session, organization.id, phone_number_id, agent_id=body.agent_id, label=body.label
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
