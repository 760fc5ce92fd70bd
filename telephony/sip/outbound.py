"""Calls placed over a SIP trunk: the conversation recorded first (`app/outbound/calls.py`), an
INVITE to the number's outbound trunk, and the answered call run through the one call lifecycle
like an inbound one. A call the trunk refuses is saved failed with its outcome and the trunk's
answer (`busy: 486 Busy Here`, `no_answer: no answer within 30 s`, `failed: 403 Forbidden`)."""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import secrets
import socket
from dataclasses import dataclass

from app.calls import lifecycle
from app.calls.overrides import answered_variables
from app.calls.runtime import VoiceRuntime
from app.config.credentials import CredentialBox
from app.config.sip_trunks import OutboundTrunk, outbound_trunk
from app.db import calls as call_queries
from app.db import phone_numbers as number_queries
from app.db import sip_dials
from app.engine.conversation import CallContext
from app.observability.metrics import SIP_REFUSALS
from app.outbound.calls import (
    OutboundCall,
    OutboundCallError,
    open_outbound_call,
    record_carrier_sid,
)
from telephony.sip.call import Signaling, SipCall
from telephony.sip.media import CHANNEL, NoRtpPortError, SipCallMedia, open_rtp_socket
from telephony.sip.placing import Outcome, Placement, new_call_id
from telephony.sip.sdp import SdpError, choose, parse_offer, render_offer
from telephony.sip.user_agent import CallAnswered, CallFailed

log = logging.getLogger(__name__)

PROVIDER = "sip_trunk"
DEFAULT_RING_TIMEOUT_S = 60


@dataclass(frozen=True, slots=True)
class PlacedSipCall:
    """The conversation on record; `error` says why no INVITE could be sent (it is saved
    failed then)."""

    conversation_id: str
    sip_call_id: str | None
    error: str | None = None


def _trunk_of(runtime: VoiceRuntime, call: OutboundCall, box_secret: bytes) -> OutboundTrunk:
    with runtime.database.session() as db:
        number = number_queries.get_phone_number(db, call.organization_id, call.phone_number_id)
        if number is None:
            raise OutboundCallError(
                "phone_number_not_found", f"phone number {call.phone_number_id!r} was not found"
            )
        if number.provider != PROVIDER:
            raise OutboundCallError(
                "unsupported_provider",
                f"phone number {call.phone_number_id!r} is a {number.provider} number; SIP "
                "trunk calls go through sip_trunk numbers",
            )
        if not number.outbound_trunk:
            raise OutboundCallError(
                "no_outbound_trunk",
                f"phone number {call.phone_number_id!r} has no outbound_trunk_config: set its "
                "trunk's address first",
            )
        return outbound_trunk(number.outbound_trunk, CredentialBox(box_secret))


async def _resolve(host: str, port: int) -> tuple[str, int]:
    try:
        ipaddress.ip_address(host)
        return host, port
    except ValueError:
        pass
    loop = asyncio.get_running_loop()
    found = await loop.getaddrinfo(host, port, type=socket.SOCK_DGRAM)
    if not found:
        raise OSError(f"{host} has no address")
    address = found[0][4]
    return str(address[0]), int(address[1])


async def place_sip_call(
    runtime: VoiceRuntime, signaling: Signaling, call: OutboundCall
) -> PlacedSipCall:
    """Record the call and send its INVITE; the call then runs on its own task (the server's).
    Raises `OutboundCallError` when the request cannot be placed at all (nothing is recorded
    then)."""
    secret = runtime.settings.signing_secret()
    trunk = await asyncio.to_thread(_trunk_of, runtime, call, secret)
    conversation_id, from_number = await asyncio.to_thread(
        open_outbound_call, runtime.database, call, carrier=PROVIDER, channel=CHANNEL
    )
    to_number = await asyncio.to_thread(_to_number, runtime, call, conversation_id)
    recorded = RecordedDial(conversation_id, from_number, to_number)
    return await dial_recorded(runtime, signaling, call, recorded, trunk)


@dataclass(frozen=True, slots=True)
class RecordedDial:
    """A call on record, not placed yet: its numbers (E.164) and, if chosen, its Call-ID."""

    conversation_id: str
    from_number: str
    to_number: str
    sip_call_id: str | None = None


async def dial_recorded(
    runtime: VoiceRuntime,
    signaling: Signaling,
    call: OutboundCall,
    recorded: RecordedDial,
    trunk: OutboundTrunk | None = None,
) -> PlacedSipCall:
    """Send the INVITE of a recorded call to its number's outbound trunk (looked up unless
    given). A call that cannot be placed is saved failed, with why."""
    settings = runtime.settings
    conversation_id = recorded.conversation_id
    try:
        if trunk is None:
            trunk = await asyncio.to_thread(_trunk_of, runtime, call, settings.signing_secret())
        target = await _resolve(trunk.host, trunk.port)
    except OutboundCallError as error:
        return await _not_placed(runtime, call, conversation_id, f"failed: {error}")
    except OSError as error:
        assert trunk is not None
        detail = f"failed: the trunk address {trunk.host} cannot be resolved ({error})"
        return await _not_placed(runtime, call, conversation_id, detail)
    placed = OutboundSipCall(runtime, signaling, call, conversation_id)
    try:
        rtp, port = await open_rtp_socket(
            settings.sip_host,
            settings.sip_rtp_port_min,
            settings.sip_rtp_port_max,
            placed.packet_received,
        )
    except NoRtpPortError as error:
        return await _not_placed(runtime, call, conversation_id, f"failed: {error}")
    local_host = signaling.local_host_for(target[0])
    sip_call_id = recorded.sip_call_id or new_call_id(local_host)
    session_id = secrets.randbelow(2**31)
    placed.local_sdp = (local_host, port, session_id)
    placement = Placement(
        call_id=sip_call_id,
        from_user=recorded.from_number,
        to_user=recorded.to_number or call.to_number,
        target=target,
        target_host=trunk.host,
        offer=render_offer(trunk.codecs, local_host, port, session_id),
        ring_timeout_s=float(call.ringing_timeout_s or DEFAULT_RING_TIMEOUT_S),
        headers=trunk.headers,
        username=trunk.credentials.username if trunk.credentials else "",
        password=trunk.credentials.password if trunk.credentials else "",
        transport=trunk.transport,
    )
    placed.rtp, placed.codecs, placed.trunk_host = rtp, trunk.codecs, trunk.host
    placed.key = signaling.place(placement, placed)
    if recorded.sip_call_id is None:
        await asyncio.to_thread(
            record_carrier_sid, runtime.database, call, conversation_id, sip_call_id
        )
    return PlacedSipCall(conversation_id, sip_call_id)


async def _not_placed(
    runtime: VoiceRuntime, call: OutboundCall, conversation_id: str, detail: str
) -> PlacedSipCall:
    await asyncio.to_thread(
        save_outcome, runtime, call.organization_id, conversation_id, "failed", detail
    )
    return PlacedSipCall(conversation_id, None, detail)


# The placing outcomes in the words of Twilio's call statuses, which the campaign outcomes read
# from every carrier (`app/db/sip_dials.py`).
CALL_STATUS = {"busy": "busy", "no_answer": "no-answer", "failed": "failed"}


def save_outcome(
    runtime: VoiceRuntime, organization_id: str, conversation_id: str, status: str, detail: str
) -> None:
    """A call that was not answered: saved failed with `detail`, its status for the dialer."""
    with runtime.database.session() as db:
        call_queries.fail_unstarted_call(db, organization_id, conversation_id, detail)
        sip_dials.set_provider_status(db, organization_id, conversation_id, status)


def _to_number(runtime: VoiceRuntime, call: OutboundCall, conversation_id: str) -> str:
    """The number dialled as recorded (normalized to E.164)."""
    with runtime.database.session() as db:
        record = call_queries.get_call(db, call.organization_id, conversation_id)
        return (record.to_number if record is not None else "") or call.to_number


class OutboundSipCall(SipCall):
    """A call we placed: waits for the trunk's answer, then runs like an inbound call."""

    def __init__(
        self,
        runtime: VoiceRuntime,
        signaling: Signaling,
        call: OutboundCall,
        conversation_id: str,
    ) -> None:
        super().__init__(runtime, signaling, "")
        self.call = call
        self.conversation_id = conversation_id
        self.organization_id = call.organization_id
        self.rtp: asyncio.DatagramTransport | None = None
        self.codecs: tuple[str, ...] = ()
        self._outcome: asyncio.Future[CallAnswered | Outcome] = (
            asyncio.get_running_loop().create_future()
        )

    def packet_received(self, data: bytes, source: tuple[str, int]) -> None:
        if self.media is not None:
            self.media.packet_received(data, source)

    def answered(self, event: CallAnswered) -> None:
        if not self._outcome.done():
            self._outcome.set_result(event)

    def failed(self, event: CallFailed) -> None:
        if not self._outcome.done():
            self._outcome.set_result(event.outcome)

    def end(self, reason: str) -> None:
        super().end(reason)
        if not self._outcome.done():  # the service stops while it rings
            self._outcome.set_result(Outcome("failed", 0, reason))

    async def take(self) -> None:
        try:
            result = await self._outcome
            if isinstance(result, Outcome):
                await self._failed(result)
                return
            try:
                await self._answered(result)
            finally:  # answered, and saved by now: its end, for the dialer
                await asyncio.to_thread(self._completed)
        finally:
            if self.media is None and self.rtp is not None:
                self.rtp.close()

    async def _failed(self, outcome: Outcome) -> None:
        SIP_REFUSALS.labels(reason=f"outbound_{outcome.outcome}").inc()
        detail = f"{outcome.outcome}: {outcome.detail}"
        log.info("SIP call %s not answered: %s", self.conversation_id, detail)
        await asyncio.to_thread(
            save_outcome,
            self.runtime,
            self.call.organization_id,
            self.conversation_id,
            CALL_STATUS.get(outcome.outcome, "failed"),
            detail,
        )

    async def _answered(self, event: CallAnswered) -> None:
        call, runtime = self.call, self.runtime
        try:
            answer_sdp = parse_offer(event.answer)
            answer = choose(answer_sdp, tuple(codec.split("/")[0] for codec in self.codecs))
        except SdpError as error:
            self.hang_up("bad_answer")
            await lifecycle.refuse(
                runtime,
                self.conversation_id,
                call.organization_id,
                call.agent_id,
                reason="bad_answer",
                detail=f"the trunk's SDP answer is unusable: {error}",
            )
            return
        claimed = await asyncio.to_thread(
            lifecycle.claim_call, runtime, call.organization_id, call.agent_id, self.conversation_id
        )
        if claimed is None:
            self.hang_up("agent_not_found")
            return
        try:
            providers = await lifecycle.call_providers(
                runtime, call.organization_id, claimed.config
            )
        except lifecycle.CallRefusedError as refused:
            self.hang_up(refused.reason)
            await lifecycle.refuse(
                runtime,
                self.conversation_id,
                call.organization_id,
                call.agent_id,
                reason=refused.reason,
                detail=str(refused),
            )
            return
        loop = asyncio.get_running_loop()

        def hang_up_soon(reason: str) -> None:
            loop.call_soon(self.hang_up, reason)

        media = SipCallMedia(
            answer,
            (answer_sdp.address, answer_sdp.port),
            lead_ms=runtime.options.playout_lead_ms,
            media_timeout_s=runtime.settings.sip_media_timeout_s,
            on_hang_up=hang_up_soon,
            on_transfer=self.transfer,
        )
        assert self.rtp is not None
        self.media = media
        media.start(self.rtp)
        variables = await asyncio.to_thread(self._variables)
        session = lifecycle.begin(
            runtime,
            context=CallContext(
                call_id=self.conversation_id,
                organization_id=call.organization_id,
                agent_id=call.agent_id,
                caller_number=claimed.caller_number,
                called_number=claimed.called_number,
                provider_call_sid=self.key,
                channel=CHANNEL,
                dynamic_variables=variables,
            ),
            config=claimed.config,
            providers=providers,
            transport=media,
            record_voice=claimed.record_voice,
        )
        media.attach(session)
        await self.run(session, media)

    def _completed(self) -> None:
        with self.runtime.database.session() as db:
            sip_dials.set_provider_status(
                db, self.call.organization_id, self.conversation_id, "completed"
            )

    def _variables(self) -> dict[str, str]:
        with self.runtime.database.session() as db:
            record = call_queries.get_call(db, self.call.organization_id, self.conversation_id)
            return answered_variables(record.initiation if record is not None else None)
