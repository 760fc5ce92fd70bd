"""One conversation over the ElevenLabs Agents WebSocket, from initiation to close.

The client speaks first (`conversation_initiation_client_data`); the server answers with
`conversation_initiation_metadata` exactly once, then caller audio, typed text and tool
results flow in while agent audio and events flow out. Bad frames are answered with an
`error` event and counted; the conversation goes on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass

from starlette.websockets import WebSocket, WebSocketDisconnect

from app.audio.formats import format_named
from app.calls import lifecycle
from app.calls.access import Admission
from app.calls.overrides import (
    InvalidOverrideError,
    OverrideNotAllowedError,
    apply_overrides,
)
from app.calls.runtime import VoiceRuntime
from app.engine.conversation import CallContext
from app.engine.session import CallSession
from app.observability.metrics import MALFORMED_FRAMES
from telephony.audio import InboundConverter
from telephony.convai.client_events import (
    ClientToolResult,
    ContextualUpdate,
    ConversationInitiation,
    ConversationParser,
    Feedback,
    McpToolApprovalResult,
    MultimodalMessage,
    Pong,
    UserActivity,
    UserAudioChunk,
    UserMessage,
)
from telephony.convai.server_events import render_error, render_initiation_metadata
from telephony.convai.transport import ConvaiTransport
from telephony.json_frames import MalformedMessage

log = logging.getLogger(__name__)

CHANNEL = "websocket"
INITIATION_TIMEOUT_S = 10.0
PING_INTERVAL_S = 5.0
# Far above any real audio chunk (a second of 48 kHz PCM is 128 KiB as base64).
MAX_FRAME_BYTES = 512 * 1024


@dataclass
class _Conversation:
    session: CallSession
    transport: ConvaiTransport
    inbound: InboundConverter
    text_only: bool


async def serve_conversation(
    websocket: WebSocket, runtime: VoiceRuntime, admission: Admission
) -> None:
    """Run one accepted conversation socket until the client or the agent ends it."""
    parser = ConversationParser()
    initiation = await _receive_initiation(websocket, parser)
    if initiation is None:
        return
    try:
        conversation = await _start(websocket, runtime, admission, initiation)
    except Exception:
        log.exception("conversation with agent %s could not start", admission.agent_id)
        await _refuse(websocket, "the conversation could not start", code=1011)
        return
    if conversation is None:
        return
    transport = conversation.transport
    background = [
        asyncio.create_task(transport.run_writer(), name="convai-writer"),
        asyncio.create_task(_keep_alive(transport), name="convai-ping"),
    ]
    reason = "client_disconnected"
    try:
        if await lifecycle.start(runtime, conversation.session):
            reason = await _receive_loop(websocket, parser, conversation)
        else:
            reason = "start_failed"  # finished as failed already, with why
    except Exception as error:
        log.exception("conversation %s failed", conversation.session.context.call_id)
        conversation.session.log.event("transport_error", error=repr(error))
        reason = "transport_error"
    finally:
        await _finish(conversation, reason, runtime, background)


async def _receive_initiation(
    websocket: WebSocket, parser: ConversationParser
) -> ConversationInitiation | None:
    """The client's first message, which must be its initiation; else an error and a close."""
    try:
        async with asyncio.timeout(INITIATION_TIMEOUT_S):
            raw = await _receive_frame(websocket)
    except TimeoutError:
        await _refuse(websocket, "no conversation_initiation_client_data within 10 s")
        return None
    if raw is None:
        return None
    try:
        event = parser.parse(raw)
    except MalformedMessage as error:
        MALFORMED_FRAMES.labels(channel=CHANNEL, reason=error.reason).inc()
        await _refuse(websocket, f"the first message could not be read: {error}")
        return None
    if not isinstance(event, ConversationInitiation):
        MALFORMED_FRAMES.labels(channel=CHANNEL, reason="not_initiated").inc()
        await _refuse(websocket, "send conversation_initiation_client_data before anything else")
        return None
    return event


async def _start(
    websocket: WebSocket,
    runtime: VoiceRuntime,
    admission: Admission,
    initiation: ConversationInitiation,
) -> _Conversation | None:
    try:
        config = apply_overrides(admission.config, initiation.overrides)
    except (OverrideNotAllowedError, InvalidOverrideError) as error:
        await _refuse(websocket, str(error), error_type="override_not_allowed")
        return None
    try:
        providers = await lifecycle.call_providers(runtime, admission.organization_id, config)
    except lifecycle.CallRefusedError as refused:
        log.error("agent %s cannot converse: %s", admission.agent_id, refused)
        await _refuse(websocket, "the agent is not available right now", code=1011)
        return None
    call_id = await asyncio.to_thread(
        lifecycle.open_call,
        runtime,
        admission.organization_id,
        admission.agent_id,
        channel=CHANNEL,
        from_number=initiation.user_id or "",
    )
    output_name = config.conversation_config.tts.agent_output_audio_format
    input_name = config.conversation_config.asr.user_input_audio_format
    text_only = config.conversation_config.conversation.text_only
    transport = ConvaiTransport(websocket, format_named(output_name))
    # First in the outbox, so first on the wire: clients wait for it before anything else.
    transport.post(render_initiation_metadata(call_id, output_name, input_name))
    session = lifecycle.begin(
        runtime,
        context=CallContext(
            call_id=call_id,
            organization_id=admission.organization_id,
            agent_id=admission.agent_id,
            caller_number=initiation.user_id or "",
            channel=CHANNEL,
            dynamic_variables={k: str(v) for k, v in initiation.dynamic_variables.items()},
        ),
        config=config,
        providers=providers,
        transport=transport,
        events=transport,
        text_only=text_only,
        can_transfer=False,
    )
    transport.on_mark = session.on_mark
    session.log.event(
        "conversation_initiated",
        auth=admission.auth_method,
        source=initiation.source,
        source_version=initiation.source_version,
        user_id=initiation.user_id,
        text_only=text_only,
        overrides=sorted(initiation.overrides),
    )
    return _Conversation(session, transport, InboundConverter(format_named(input_name)), text_only)


async def _receive_loop(
    websocket: WebSocket, parser: ConversationParser, conversation: _Conversation
) -> str:
    session, transport = conversation.session, conversation.transport
    while not session.closed:
        raw = await _receive_frame(websocket)
        if raw is None:
            return "client_disconnected"
        if len(raw) > MAX_FRAME_BYTES:
            _reject(
                conversation, "frame_too_large", f"frames are limited to {MAX_FRAME_BYTES} bytes"
            )
            continue
        try:
            event = parser.parse(raw)
        except MalformedMessage as error:
            _reject(conversation, error.reason, str(error))
            continue
        if isinstance(event, UserAudioChunk):
            _push_audio(conversation, event.audio)
        elif isinstance(event, Pong):
            if not transport.on_pong(event.event_id):
                session.log.count("unexpected_pongs")
        elif isinstance(event, UserMessage):
            await session.on_user_message(event.text)
        elif isinstance(event, ContextualUpdate):
            session.on_contextual_update(event.text)
        elif isinstance(event, UserActivity):
            session.on_user_activity()
        elif isinstance(event, ClientToolResult):
            session.on_client_tool_result(event.tool_call_id, event.result, event.is_error)
        elif isinstance(event, Feedback):
            session.log.event("feedback", score=event.score, event_id=event.event_id)
        elif isinstance(event, MultimodalMessage | McpToolApprovalResult):
            _reject(conversation, "unsupported", f"{type(event).__name__} is not supported")
    return "agent_ended"


def _push_audio(conversation: _Conversation, audio: bytes) -> None:
    if conversation.text_only:
        conversation.session.log.count("audio_in_text_only_conversation")
        return
    if conversation.inbound.wire_format.encoding == "pcm16" and len(audio) % 2:
        _reject(conversation, "odd_pcm_length", "PCM16 audio must hold whole 2-byte samples")
        return
    for frame in conversation.inbound.push(audio):
        conversation.session.push_audio(frame)


def _reject(conversation: _Conversation, reason: str, message: str) -> None:
    MALFORMED_FRAMES.labels(channel=CHANNEL, reason=reason).inc()
    log.warning(
        "conversation %s: bad frame skipped: %s", conversation.session.context.call_id, message
    )
    conversation.session.count_malformed(reason)
    conversation.transport.send_error(message, 1008, error_type=reason)


async def _receive_frame(websocket: WebSocket) -> str | bytes | None:
    """The next text or binary frame; None once the client has gone."""
    try:
        message = await websocket.receive()
    except (WebSocketDisconnect, RuntimeError):
        return None
    if message["type"] == "websocket.disconnect":
        return None
    text = message.get("text")
    return text if text is not None else (message.get("bytes") or b"")


async def _keep_alive(transport: ConvaiTransport) -> None:
    while not transport.closed:
        await asyncio.sleep(PING_INTERVAL_S)
        transport.ping()


async def _refuse(
    websocket: WebSocket, message: str, *, code: int = 1008, error_type: str | None = None
) -> None:
    """Say why in an `error` event, then close with the same code."""
    with contextlib.suppress(Exception):
        await websocket.send_text(render_error(message, code, error_type))
        await websocket.close(code=code, reason=message[:120])


async def _finish(
    conversation: _Conversation,
    reason: str,
    runtime: VoiceRuntime,
    background: list[asyncio.Task[None]],
) -> None:
    session, transport = conversation.session, conversation.transport
    await lifecycle.finish(runtime, session, reason)
    await transport.drain()
    for task in background:
        task.cancel()
    await asyncio.gather(*background, return_exceptions=True)
    await transport.close(1000)
