"""`POST /v1/convai/sip-trunk/outbound-call`: an agent calls a number over the number's SIP trunk
(ElevenLabs' shape). HTTP only: the request is checked and handed to the SIP dialer
(`telephony/sip/outbound.py`), which records the conversation first and sends the INVITE; how
the call goes (answered, busy, no answer, failed) is saved on the conversation."""

from __future__ import annotations

import dataclasses

from fastapi import APIRouter, Request, status
from pydantic import BaseModel

from app.api.deps import OrganizationDep
from app.api.errors import api_error
from app.api.openapi import error_responses
from app.api.outbound_calls import OutboundCallBody, outbound_call_of
from app.outbound.calls import OutboundCallError
from telephony.sip.outbound import place_sip_call
from telephony.sip.server import SipServer

router = APIRouter(prefix="/v1/convai/sip-trunk", tags=["sip trunk"])

_NOT_FOUND = {"agent_not_found", "phone_number_not_found"}


class SipTrunkOutboundCallResponse(BaseModel):
    """`success` is true once the INVITE is sent; the call's outcome lands on the conversation
    (`conversation_id`). `sip_call_id` is the INVITE's Call-ID."""

    success: bool
    message: str
    conversation_id: str | None
    sip_call_id: str | None


@router.post("/outbound-call", responses=error_responses(404, 422, 503))
async def sip_trunk_outbound_call(
    body: OutboundCallBody, request: Request, organization: OrganizationDep
) -> SipTrunkOutboundCallResponse:
    server: SipServer | None = getattr(request.app.state, "sip", None)
    if server is None:
        raise api_error(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            "sip_not_enabled",
            "this node does not speak SIP: set VELOX_SIP_PORT to place SIP trunk calls",
        )
    call = dataclasses.replace(
        outbound_call_of(organization.id, body), machine_detection=None, record=False
    )
    try:
        placed = await place_sip_call(server.runtime, server, call)
    except OutboundCallError as error:
        if error.reason in _NOT_FOUND:
            raise api_error(status.HTTP_404_NOT_FOUND, error.reason, str(error)) from None
        raise api_error(status.HTTP_422_UNPROCESSABLE_CONTENT, error.reason, str(error)) from None
    if placed.error is not None:
        return SipTrunkOutboundCallResponse(
            success=False,
            message=placed.error,
            conversation_id=placed.conversation_id,
            sip_call_id=None,
        )
    return SipTrunkOutboundCallResponse(
        success=True,
        message="Call placed",
        conversation_id=placed.conversation_id,
        sip_call_id=placed.sip_call_id,
    )
