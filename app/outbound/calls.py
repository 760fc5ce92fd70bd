"""Placing an outbound call, whatever the carrier: the conversation is recorded first.

The call row exists before the carrier is asked, so every webhook it sends for the call (the
media fetch on answer, status callbacks, the answering-machine verdict) names a conversation that
is already there, and a call the carrier refuses is still on record, as failed, with its reason.
What the client asked for (dynamic variables, overrides, answering-machine rules) is kept on the
call (`initiation`) and applied when it is answered. The carrier's own dialer (Twilio's is
`telephony/twilio/outbound.py`) calls `open_outbound_call`, then records the carrier's call id
or its refusal. Used by the outbound-call API and the campaign dialer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from app.calls.overrides import (
    InvalidOverrideError,
    OverrideNotAllowedError,
    apply_overrides,
)
from app.db import agents as agent_queries
from app.db import calls as call_queries
from app.db import phone_numbers as number_queries
from app.db.session import Database
from campaigns.phone_numbers import InvalidPhoneNumberError, normalize_phone_number


class OutboundCallError(ValueError):
    """The call cannot be placed as asked; `reason` is a short machine-readable cause."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class MachineDetection:
    """Run Twilio's answering-machine detection; hang up on the verdicts in `hang_up_on`, or
    leave `voicemail_message` once a machine's greeting has ended (mode detect_message_end)."""

    mode: str = "enable"
    hang_up_on: frozenset[str] = frozenset()
    voicemail_message: str | None = None


@dataclass(frozen=True, slots=True)
class OutboundCall:
    organization_id: str
    agent_id: str
    phone_number_id: str
    to_number: str
    dynamic_variables: dict[str, str] = field(default_factory=dict)
    overrides: dict[str, Any] = field(default_factory=dict)
    ringing_timeout_s: int | None = None
    # Twilio records the call in its own cloud (`twilio_call_recording_enabled`).
    record: bool = False
    # Velox records it (`call_recording_enabled`), whatever the agent's own setting.
    record_voice: bool = False
    machine_detection: MachineDetection | None = None
    # Chosen by the caller when it must know the id before the call exists (the dialer).
    conversation_id: str | None = None


@dataclass(frozen=True, slots=True)
class PlacedOutboundCall:
    """The conversation on record; `call_sid` is None when Twilio refused (see `error`)."""

    conversation_id: str
    call_sid: str | None
    error: str | None = None
    # Twilio was asked but did not answer: it may have placed the call (never dial it again).
    uncertain: bool = False


def open_outbound_call(
    database: Database, call: OutboundCall, *, carrier: str, channel: str | None = None
) -> tuple[str, str]:
    """Record the conversation before any carrier is asked; return its id and the caller ID.
    `carrier` is the numbers' provider; `channel` the call's (the carrier's name unless given).

    Raises `OutboundCallError` when the agent, the number or the request is not usable, or the
    number belongs to another carrier than the one placing the call.
    """
    with database.session() as db:
        agent = agent_queries.get_agent(db, call.organization_id, call.agent_id)
        if agent is None:
            raise OutboundCallError("agent_not_found", f"agent {call.agent_id!r} was not found")
        number = number_queries.get_phone_number(db, call.organization_id, call.phone_number_id)
        if number is None:
            raise OutboundCallError(
                "phone_number_not_found", f"phone number {call.phone_number_id!r} was not found"
            )
        if number.provider != carrier:
            raise OutboundCallError(
                "unsupported_provider",
                f"phone number {call.phone_number_id!r} is a {number.provider} number; "
                f"this call goes through {carrier} numbers",
            )
        try:
            to_number = normalize_phone_number(call.to_number)
        except InvalidPhoneNumberError as error:
            raise OutboundCallError("invalid_to_number", f"to_number {error}") from None
        if call.overrides:
            try:
                apply_overrides(agent_queries.agent_config(agent), call.overrides)
            except (OverrideNotAllowedError, InvalidOverrideError) as error:
                raise OutboundCallError("override_not_allowed", str(error)) from None
        record = call_queries.create_call(
            db,
            call.organization_id,
            agent_id=agent.id,
            direction="outbound",
            channel=channel or carrier,
            from_number=number.phone_number,
            to_number=to_number,
            phone_number_id=number.id,
            call_id=call.conversation_id,
        )
        record.initiation = initiation_of(call)
        return record.id, number.phone_number


def initiation_of(call: OutboundCall) -> dict[str, Any]:
    detection = call.machine_detection
    return {
        "dynamic_variables": dict(call.dynamic_variables),
        "overrides": call.overrides,
        "record_voice": call.record_voice,
        "machine_detection": None
        if detection is None
        else {
            "mode": detection.mode,
            "hang_up_on": sorted(detection.hang_up_on),
            "voicemail_message": detection.voicemail_message,
        },
    }


def hang_up_verdicts(initiation: dict[str, Any] | None) -> frozenset[str]:
    """The answering-machine verdicts on which this call is hung up."""
    detection = (initiation or {}).get("machine_detection") or {}
    return frozenset(detection.get("hang_up_on") or ())


def record_carrier_sid(
    database: Database, call: OutboundCall, conversation_id: str, sid: str
) -> None:
    with database.session() as db:
        call_queries.set_provider_call_sid(db, call.organization_id, conversation_id, sid)


def record_refusal(
    database: Database, call: OutboundCall, conversation_id: str, error: str
) -> None:
    with database.session() as db:
        call_queries.fail_unstarted_call(db, call.organization_id, conversation_id, error)
