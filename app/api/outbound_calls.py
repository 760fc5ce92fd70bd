"""`POST /v1/convai/twilio/outbound-call`: an agent calls a phone number (ElevenLabs' shape).

HTTP only: the request is checked and handed to Twilio's dialer
(`telephony/twilio/outbound.py`), which records the conversation first (`app/outbound/calls.py`).
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Request, status
from pydantic import BaseModel, ConfigDict, Field, StrictBool

from app.api.deps import OrganizationDep, get_database
from app.api.errors import api_error
from app.api.openapi import error_responses
from app.calls.runtime import VoiceRuntime
from app.outbound.calls import MachineDetection, OutboundCall, OutboundCallError
from telephony.twilio.outbound import place_outbound_call

router = APIRouter(prefix="/v1/convai/twilio", tags=["twilio"])

# Twilio's `AnsweredBy` verdicts.
AnsweredBy = Literal[
    "human",
    "machine_start",
    "machine_end_beep",
    "machine_end_silence",
    "machine_end_other",
    "fax",
    "unknown",
]
_NOT_FOUND = {"agent_not_found", "phone_number_not_found"}


class MachineDetectionRule(BaseModel):
    model_config = ConfigDict(extra="forbid")

    action: Literal["hang_up"] = "hang_up"
    answered_by: list[AnsweredBy] = Field(min_length=1)


class MachineDetectionConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    mode: Literal["enable", "detect_message_end"] = "enable"
    actions: list[MachineDetectionRule] = Field(default_factory=list)


class TelephonyCallConfig(BaseModel):
    model_config = ConfigDict(extra="ignore")

    ringing_timeout_secs: int | None = Field(default=None, ge=5, le=600)
    twilio_call_recording_enabled: StrictBool | None = None
    twilio_machine_detection: MachineDetectionConfig | None = None


class ConversationInitiationClientData(BaseModel):
    """What the client sets for this conversation; other ElevenLabs fields are ignored."""

    model_config = ConfigDict(extra="ignore")

    dynamic_variables: dict[str, str | int | float | bool] | None = None
    conversation_config_override: dict[str, Any] | None = None


class OutboundCallBody(BaseModel):
    model_config = ConfigDict(extra="ignore")

    agent_id: str = Field(min_length=1, max_length=64)
    agent_phone_number_id: str = Field(min_length=1, max_length=64)
    to_number: str = Field(min_length=1, max_length=32)
    conversation_initiation_client_data: ConversationInitiationClientData | None = None
    call_recording_enabled: StrictBool | None = None
    telephony_call_config: TelephonyCallConfig | None = None


class OutboundCallResponse(BaseModel):
    """`success` is false when Twilio refused the call; the conversation is then on record as
    failed, with Twilio's reason, under `conversation_id`."""

    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)

    success: bool
    message: str
    conversation_id: str | None
    call_sid: str | None = Field(alias="callSid")


def outbound_call_of(organization_id: str, body: OutboundCallBody) -> OutboundCall:
    client = body.conversation_initiation_client_data or ConversationInitiationClientData()
    telephony = body.telephony_call_config or TelephonyCallConfig()
    detection = None
    if telephony.twilio_machine_detection is not None:
        rules = telephony.twilio_machine_detection
        detection = MachineDetection(
            mode=rules.mode,
            hang_up_on=frozenset(v for rule in rules.actions for v in rule.answered_by),
        )
    return OutboundCall(
        organization_id=organization_id,
        agent_id=body.agent_id,
        phone_number_id=body.agent_phone_number_id,
        to_number=body.to_number,
        dynamic_variables={k: str(v) for k, v in (client.dynamic_variables or {}).items()},
        overrides=client.conversation_config_override or {},
        ringing_timeout_s=telephony.ringing_timeout_secs,
        record=bool(telephony.twilio_call_recording_enabled),
        record_voice=bool(body.call_recording_enabled),
        machine_detection=detection,
    )


@router.post("/outbound-call", responses=error_responses(404, 503))
async def outbound_call(
    body: OutboundCallBody, request: Request, organization: OrganizationDep
) -> OutboundCallResponse:
    runtime: VoiceRuntime = request.app.state.voice
    call = outbound_call_of(organization.id, body)
    try:
        placed = await place_outbound_call(get_database(request), runtime.settings, call)
    except OutboundCallError as error:
        if error.reason in _NOT_FOUND:
            raise api_error(status.HTTP_404_NOT_FOUND, error.reason, str(error)) from None
        if error.reason == "twilio_not_configured":
            raise api_error(status.HTTP_503_SERVICE_UNAVAILABLE, error.reason, str(error)) from None
        raise api_error(status.HTTP_422_UNPROCESSABLE_CONTENT, error.reason, str(error)) from None
    if placed.call_sid is None:
        return OutboundCallResponse(
            success=False,
            message=placed.error or "Twilio refused the call",
            conversation_id=placed.conversation_id,
            call_sid=None,
        )
    return OutboundCallResponse(
        success=True,
        message="Success",
        conversation_id=placed.conversation_id,
        call_sid=placed.call_sid,
    )
