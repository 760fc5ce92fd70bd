"""An inbound SIP call from its INVITE to its end: the number dialled picks the agent, and the
call goes through the one call lifecycle (`app/calls/lifecycle.py`) like a Twilio call."""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from dataclasses import dataclass

from app.calls import lifecycle
from app.calls.runtime import VoiceRuntime
from app.config.sip_trunks import InboundTrunk, inbound_trunk
from app.db import calls as call_queries
from app.db import phone_numbers as number_queries
from app.engine.conversation import CallContext
from app.limits.calls import new_call_refusal
from telephony.sip.admission import admit
from telephony.sip.call import Signaling, SipCall
from telephony.sip.media import CHANNEL, NoRtpPortError, SipCallMedia, open_rtp_socket
from telephony.sip.sdp import SdpError, choose, parse_offer, render_answer
from telephony.sip.user_agent import IncomingCall

log = logging.getLogger(__name__)

PROVIDER = "sip_trunk"
CALL_SID_LENGTH = 64  # what the call record keeps of a Call-ID


@dataclass(frozen=True)
class _Number:
    """The SIP-trunk number dialled, with who may call it."""

    id: str
    organization_id: str
    agent_id: str
    phone_number: str
    trunk: InboundTrunk


@dataclass(frozen=True)
class _Routed:
    call_id: str
    organization_id: str
    agent_id: str
    caller: str
    called: str


class InboundCall(SipCall):
    """One call: set up by `take`, ended by the caller (`end`) or by us (`hang_up`)."""

    def __init__(self, runtime: VoiceRuntime, signaling: Signaling, incoming: IncomingCall):
        super().__init__(runtime, signaling, incoming.key)
        self.incoming = incoming
        self.trunk_host = incoming.source[0]

    async def take(self) -> None:
        """Answer or refuse the call, and run it to its end."""
        incoming, settings = self.incoming, self.runtime.settings
        key = incoming.key
        if incoming.content_type != "application/sdp" or not incoming.offer:
            self.signaling.reject(key, 488, "An SDP offer in the INVITE is required")
            return
        try:
            offer = parse_offer(incoming.offer)
            answer = choose(offer)
        except SdpError as error:
            log.info("SIP call %s refused: %s", key, error)
            self.signaling.reject(key, 488, str(error))
            return
        number = await asyncio.to_thread(self._find_number)
        if number is None:
            self.signaling.reject(key, 404, "No agent answers this number")
            return
        refusal = admit(number.trunk, incoming, self.signaling.digest, time.time())
        if refusal is not None:
            log.info("SIP call %s refused: %s", key, refusal.reason)
            self.signaling.reject(key, refusal.status, refusal.phrase, headers=[*refusal.headers])
            return
        routed = await asyncio.to_thread(self._open_record, number)
        self.conversation_id, self.organization_id = routed.call_id, routed.organization_id
        limited = await asyncio.to_thread(
            new_call_refusal, self.runtime, routed.organization_id, channel=CHANNEL
        )
        if limited is not None:  # the organization's cap (486) or rate of new calls (503)
            busy = limited.kind == "concurrent_calls"
            phrase = "Busy Here" if busy else "Too many calls"
            self.signaling.reject(key, 486 if busy else 503, phrase, limited.retry_after_s)
            await self._refuse(routed, 0, limited.kind, limited.message)
            return
        self.signaling.ring(key)
        claimed = await asyncio.to_thread(
            lifecycle.claim_call,
            self.runtime,
            routed.organization_id,
            routed.agent_id,
            routed.call_id,
        )
        if claimed is None:  # the agent was deleted meanwhile
            self.signaling.reject(key, 404, "No agent answers this number")
            return
        try:
            providers = await lifecycle.call_providers(
                self.runtime, routed.organization_id, claimed.config
            )
        except lifecycle.CallRefusedError as refused:
            await self._refuse(routed, 503, refused.reason, str(refused))
            return
        loop = asyncio.get_running_loop()

        def hang_up_soon(reason: str) -> None:
            loop.call_soon(self.hang_up, reason)

        media = SipCallMedia(
            answer,
            (offer.address, offer.port),
            lead_ms=self.runtime.options.playout_lead_ms,
            media_timeout_s=settings.sip_media_timeout_s,
            on_hang_up=hang_up_soon,
            on_transfer=self.transfer,
        )
        local_host = self.signaling.local_host_for(incoming.source[0])
        try:
            socket, port = await open_rtp_socket(
                settings.sip_host,
                settings.sip_rtp_port_min,
                settings.sip_rtp_port_max,
                media.packet_received,
            )
        except NoRtpPortError as error:
            await self._refuse(routed, 503, "no_rtp_port", str(error))
            return
        self.media = media
        session_id = secrets.randbelow(2**31)
        self.local_sdp = (local_host, port, session_id)
        sdp = render_answer(answer, local_host, port, session_id)
        if not self.signaling.answer(key, sdp):  # cancelled while the agent was readied
            socket.close()
            await self._refuse(routed, 0, "cancelled", "the caller hung up before the answer")
            return
        media.start(socket)
        variables = {
            name.lower().removeprefix("x-").replace("-", "_"): value
            for name, value in incoming.extra_headers.items()
        }
        session = lifecycle.begin(
            self.runtime,
            context=CallContext(
                call_id=routed.call_id,
                organization_id=routed.organization_id,
                agent_id=routed.agent_id,
                caller_number=routed.caller,
                called_number=routed.called,
                provider_call_sid=key.split(";", 1)[0][:CALL_SID_LENGTH],
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

    def _find_number(self) -> _Number | None:
        """The number dialled, as a SIP-trunk number with an agent (its trunk decrypted)."""
        incoming = self.incoming
        with self.runtime.database.session() as db:
            number = None
            for candidate in _spellings(incoming.number):
                number = number_queries.find_by_number(db, candidate)
                if number is not None:
                    break
            if number is None or number.provider != PROVIDER or number.agent_id is None:
                log.warning("SIP call to %r: no SIP-trunk number with an agent", incoming.number)
                return None
            return _Number(
                number.id,
                number.organization_id,
                number.agent_id,
                number.phone_number,
                inbound_trunk(number.inbound_trunk, self.signaling.credential_box),
            )

    def _open_record(self, number: _Number) -> _Routed:
        """The call recorded, to the number found."""
        incoming = self.incoming
        with self.runtime.database.session() as db:
            call = call_queries.create_call(
                db,
                number.organization_id,
                agent_id=number.agent_id,
                direction="inbound",
                channel=CHANNEL,
                from_number=incoming.caller,
                to_number=number.phone_number,
                provider_call_sid=incoming.key.split(";", 1)[0][:CALL_SID_LENGTH],
                phone_number_id=number.id,
            )
            return _Routed(
                call.id,
                number.organization_id,
                number.agent_id,
                incoming.caller,
                number.phone_number,
            )

    async def _refuse(self, routed: _Routed, status: int, reason: str, detail: str) -> None:
        log.error("SIP call %s cannot start: %s", routed.call_id, detail)
        if status:
            self.signaling.reject(self.incoming.key, status, detail[:100])
        await lifecycle.refuse(
            self.runtime,
            routed.call_id,
            routed.organization_id,
            routed.agent_id,
            reason=reason,
            detail=detail,
        )


def _spellings(number: str) -> list[str]:
    """A dialled user part as numbers are stored: as sent, and in E.164 with its `+`."""
    digits = number.strip()
    if digits.startswith("+"):
        return [digits]
    return [digits, f"+{digits}"]
