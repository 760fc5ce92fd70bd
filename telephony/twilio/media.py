"""The Twilio Media Streams transport: one WebSocket per call, bridged to a `CallSession`.

The codec (`media_stream`) turns frames into events; this module does the I/O: it finds the
call and its agent when `start` arrives, converts audio at the edge, and feeds the session.
A malformed frame is counted and skipped; the call goes on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass

from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from app.audio.formats import MULAW_8K, AudioFormat
from app.calls import lifecycle
from app.calls.runtime import VoiceRuntime
from app.engine.briefing import Briefing
from app.engine.conversation import CallContext
from app.engine.session import CallSession
from app.observability.metrics import MALFORMED_FRAMES
from telephony.audio import InboundConverter, OutboundEncoder, UnsupportedAudioFormatError
from telephony.json_frames import MalformedMessage
from telephony.twilio import twiml
from telephony.twilio.briefings import BriefingAudio, audio_url, whisper_url
from telephony.twilio.media_stream import (
    Dtmf,
    Mark,
    Media,
    MediaStreamParser,
    Start,
    Stop,
    render_clear,
    render_mark,
    render_media,
)
from telephony.twilio.rest import TwilioRest, twilio_rest

log = logging.getLogger(__name__)

CHANNEL = "twilio"
# `<Parameter>`s that route the stream to its call; any others are the prompt's variables.
ROUTING_PARAMETERS = frozenset({"organization_id", "agent_id", "conversation_id"})


class TwilioMediaTransport:
    """The engine's `CallTransport` over one Media Streams socket."""

    # Twilio plays a media message's payload whatever its length: three frames (60 ms) in one
    # message cost a third of the JSON, base64 and WebSocket work of sending them one by one.
    frames_per_message = 3

    def __init__(
        self,
        websocket: WebSocket,
        start: Start,
        rest: TwilioRest,
        briefings: BriefingAudio | None = None,
        public_url: str = "",
    ) -> None:
        self._websocket = websocket
        self._stream_sid = start.stream_sid
        self._call_sid = start.call_sid
        self._rest = rest
        self._briefings = briefings
        self._public_url = public_url
        self._send_lock = asyncio.Lock()
        self.closed = False

    @property
    def output_format(self) -> AudioFormat:
        return MULAW_8K

    def new_encoder(self) -> OutboundEncoder:
        return OutboundEncoder(MULAW_8K)

    async def send_audio(self, frame: bytes) -> None:
        await self._send(render_media(self._stream_sid, frame))

    async def send_mark(self, name: str) -> None:
        await self._send(render_mark(self._stream_sid, name))

    async def send_clear(self) -> None:
        await self._send(render_clear(self._stream_sid))

    async def hang_up(self) -> None:
        """Closing the stream ends a `<Connect><Stream>` call: no TwiML follows it."""
        self.closed = True
        if self._websocket.application_state == WebSocketState.CONNECTED:
            with contextlib.suppress(Exception):
                await self._websocket.close(code=1000)

    async def transfer(self, phone_number: str) -> None:
        await self._rest.redirect_to_dial(self._call_sid, phone_number)

    async def transfer_warm(self, phone_number: str, briefing: Briefing) -> None:
        """Dial `phone_number` with the summary as Twilio's whisper (`briefings.py`)."""
        if self._briefings is None:
            raise RuntimeError("this line keeps no briefing audio: a warm transfer is not possible")
        store = self._briefings.store
        summary = await asyncio.to_thread(store, briefing.summary_audio)
        caller = None
        if briefing.caller_audio is not None:
            caller = audio_url(
                self._public_url, await asyncio.to_thread(store, briefing.caller_audio)
            )
        document = twiml.warm_dial(phone_number, whisper_url(self._public_url, summary), caller)
        await self._rest.redirect(self._call_sid, document)

    async def _send(self, text: str) -> None:
        if self.closed:
            return
        try:
            async with self._send_lock:
                await self._websocket.send_text(text)
        except (WebSocketDisconnect, RuntimeError, OSError):
            # The caller is gone; the receive loop notices and ends the call.
            self.closed = True


@dataclass
class _CallSetup:
    session: CallSession
    transport: TwilioMediaTransport
    inbound: InboundConverter


async def serve_media_stream(websocket: WebSocket, runtime: VoiceRuntime) -> None:
    """Run one call's Media Stream from `connected` to `stop` or a dropped socket."""
    parser = MediaStreamParser()
    setup: _CallSetup | None = None
    reason = "socket_dropped"
    try:
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                break
            raw = message.get("text")
            if raw is None:
                raw = message.get("bytes") or b""
            try:
                event = parser.parse(raw)
            except MalformedMessage as error:
                _count_malformed(error, setup)
                continue
            if isinstance(event, Start):  # the parser refuses a second one
                setup = await _start_call(websocket, event, runtime)
                if setup is None:
                    reason = "rejected_at_start"
                    break
            elif setup is None:
                continue  # `connected` arrives before `start`; the parser rejects media early
            elif isinstance(event, Media):
                if event.track not in ("inbound", "inbound_track"):
                    continue
                for frame in setup.inbound.push(event.payload):
                    setup.session.push_audio(frame)
            elif isinstance(event, Mark):
                setup.session.on_mark(event.name)
            elif isinstance(event, Dtmf):
                setup.session.on_dtmf(event.digit)
            elif isinstance(event, Stop):
                reason = "caller_hung_up"
                break
            if setup.session.closed:
                break
    except WebSocketDisconnect:
        reason = "socket_dropped"
    finally:
        if setup is not None:
            setup.transport.closed = True
            await lifecycle.finish(runtime, setup.session, reason)
        if websocket.application_state == WebSocketState.CONNECTED:
            with contextlib.suppress(Exception):
                await websocket.close(code=1000)


def _count_malformed(error: MalformedMessage, setup: _CallSetup | None) -> None:
    MALFORMED_FRAMES.labels(channel=CHANNEL, reason=error.reason).inc()
    log.warning("malformed Media Streams message skipped: %s", error)
    if setup is not None:
        setup.session.count_malformed(error.reason)


async def _start_call(
    websocket: WebSocket, start: Start, runtime: VoiceRuntime
) -> _CallSetup | None:
    params = start.custom_parameters
    organization_id = params.get("organization_id", "")
    agent_id = params.get("agent_id", "")
    call_id = params.get("conversation_id", "")
    claimed = await asyncio.to_thread(
        lifecycle.claim_call,
        runtime,
        organization_id,
        agent_id,
        call_id,
        stream_sid=start.stream_sid,
    )
    if claimed is None:
        log.warning("media stream %s names no known call (%s)", start.stream_sid, params)
        return None
    try:
        inbound = InboundConverter(_wire_format(start))
        providers = await lifecycle.call_providers(runtime, organization_id, claimed.config)
    except UnsupportedAudioFormatError as error:
        # Twilio streams mu-law 8 kHz mono; anything else is not a Twilio stream we can hear.
        log.warning("call %s: %s", call_id, error)
        await lifecycle.refuse(
            runtime,
            call_id,
            organization_id,
            agent_id,
            reason="unsupported_media_format",
            detail=str(error),
        )
        await websocket.close(code=1003, reason=f"unsupported media format: {error}"[:120])
        return None
    except lifecycle.CallRefusedError as refused:
        log.error("call %s cannot start: %s", call_id, refused)
        await lifecycle.refuse(
            runtime, call_id, organization_id, agent_id, reason=refused.reason, detail=str(refused)
        )
        return None
    transport = TwilioMediaTransport(
        websocket,
        start,
        twilio_rest(runtime.settings),
        briefing_audio(runtime),
        runtime.settings.resolved_public_url(),
    )
    dynamic = {k: v for k, v in params.items() if k not in ROUTING_PARAMETERS}
    session = lifecycle.begin(
        runtime,
        context=CallContext(
            call_id=call_id,
            organization_id=organization_id,
            agent_id=agent_id,
            caller_number=claimed.caller_number,
            called_number=claimed.called_number,
            provider_call_sid=start.call_sid,
            channel=CHANNEL,
            dynamic_variables=dynamic,
        ),
        config=claimed.config,
        providers=providers,
        transport=transport,
        record_voice=claimed.record_voice,
    )
    if not await lifecycle.start(runtime, session):
        transport.closed = True
        return None
    return _CallSetup(session, transport, inbound)


def _wire_format(start: Start) -> AudioFormat:
    media = start.media_format
    if media.encoding != "audio/x-mulaw" or media.channels != 1:
        raise UnsupportedAudioFormatError(
            f"expected audio/x-mulaw mono at 8000 Hz, got {media.encoding!r} "
            f"with {media.channels} channel(s) at {media.sample_rate} Hz"
        )
    return AudioFormat("mulaw", media.sample_rate)


def briefing_audio(runtime: VoiceRuntime) -> BriefingAudio:
    """Warm transfers' audio, beside the recordings (a folder every node sees)."""
    return BriefingAudio(runtime.settings.resolved_recordings_dir() / "briefings")
