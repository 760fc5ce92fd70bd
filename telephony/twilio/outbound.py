"""Twilio's outbound dialer: the conversation is recorded (`app.outbound.calls`), then
Twilio's REST API is asked to dial, with the webhooks it will call on answer, on status changes
and on its answering-machine verdict.
"""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import urlencode

from app.db.session import Database
from app.outbound.calls import (
    OutboundCall,
    OutboundCallError,
    PlacedOutboundCall,
    open_outbound_call,
    record_carrier_sid,
    record_refusal,
)
from app.settings import Settings
from telephony.twilio.rest import OutboundCallRequest, TwilioRestError, twilio_rest

CARRIER = "twilio"
# Twilio's `MachineDetection` values for ElevenLabs' `twilio_machine_detection.mode`.
MACHINE_DETECTION_MODES = {"enable": "Enable", "detect_message_end": "DetectMessageEnd"}


async def place_outbound_call(
    database: Database, settings: Settings, call: OutboundCall
) -> PlacedOutboundCall:
    """Record the conversation, then ask Twilio to dial; raise `OutboundCallError` if invalid."""
    rest = twilio_rest(settings)
    if not rest.configured:
        raise OutboundCallError(
            "twilio_not_configured",
            "Twilio credentials are not set: set VELOX_TWILIO_ACCOUNT_SID and "
            "VELOX_TWILIO_AUTH_TOKEN to place calls",
        )
    conversation_id, from_number = await asyncio.to_thread(
        open_outbound_call, database, call, carrier=CARRIER
    )
    public = settings.resolved_public_url()
    query = urlencode({"conversation_id": conversation_id})
    detection = call.machine_detection
    request = OutboundCallRequest(
        to=call.to_number,
        from_=from_number,
        twiml_url=f"{public}/twilio/voice?{query}",
        status_callback=f"{public}/twilio/status?{query}",
        timeout_s=call.ringing_timeout_s,
        record=call.record,
        machine_detection=MACHINE_DETECTION_MODES[detection.mode] if detection else None,
        amd_callback=f"{public}/twilio/amd?{query}" if detection else None,
    )
    try:
        placed = await rest.place_call(request)
    except TwilioRestError as error:
        await asyncio.to_thread(record_refusal, database, call, conversation_id, str(error))
        return PlacedOutboundCall(
            conversation_id, None, str(error), uncertain=error.may_have_reached_twilio
        )
    await asyncio.to_thread(record_carrier_sid, database, call, conversation_id, placed.sid)
    return PlacedOutboundCall(conversation_id, placed.sid)


# Twilio's verdicts once a machine's greeting has ended (with MachineDetection=DetectMessageEnd):
# the moment to speak a voicemail message.
MESSAGE_END_VERDICTS = frozenset({"machine_end_beep", "machine_end_silence", "machine_end_other"})


def voicemail_message(initiation: dict[str, Any] | None, answered_by: str) -> str | None:
    """The message to leave now, if this verdict ends a machine's greeting and the call was
    placed to leave one."""
    detection = (initiation or {}).get("machine_detection") or {}
    message = detection.get("voicemail_message")
    if answered_by in MESSAGE_END_VERDICTS and isinstance(message, str) and message.strip():
        return message
    return None
