"""A conversation over the conversation socket, and what its client's frames do to it.

`receive_loop` reads the client's frames until the socket goes away or the agent ends the
call: caller audio to the session, typed text, contextual updates, activity, client tool results
and feedback to the engine, pongs to the transport. A bad frame (too large, malformed, odd PCM,
a kind Velox does not support) is answered with an `error` event and counted; the conversation
goes on. How the socket went away (`Gone`) tells a drop, which holds the conversation for its
client to resume, from a close.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

from starlette.websockets import WebSocket, WebSocketDisconnect

from app.engine.session import CallSession
from app.observability.metrics import MALFORMED_FRAMES
from telephony.audio import InboundConverter
from telephony.convai.client_events import (
    ClientToolResult,
    ContextualUpdate,
    ConversationParser,
    Feedback,
    McpToolApprovalResult,
    MultimodalMessage,
    Pong,
    UserActivity,
    UserAudioChunk,
    UserMessage,
)
from telephony.convai.server_events import render_initiation_metadata
from telephony.convai.transport import ConvaiTransport
from telephony.json_frames import MalformedMessage

log = logging.getLogger(__name__)

CHANNEL = "websocket"
# Far above any real audio chunk (a second of 48 kHz PCM is 128 KiB as base64).
MAX_FRAME_BYTES = 512 * 1024


# A socket gone without a close frame: the connection dropped rather than being closed.
ABNORMAL_CLOSURE = 1006
NO_STATUS = 1005
# Velox's own close code for a client that gave up a connection gone quiet and will resume it
# (a browser cannot drop a socket without sending a close frame).
CLIENT_WILL_RESUME = 4001
LOST_CODES = frozenset({ABNORMAL_CLOSURE, CLIENT_WILL_RESUME})
CONNECTION_LOST = "connection_lost"


@dataclass
class Conversation:
    session: CallSession
    transport: ConvaiTransport
    inbound: InboundConverter
    text_only: bool
    agent_id: str
    output_name: str
    input_name: str
    resume_token: str
    background: list[asyncio.Task[None]] = field(default_factory=list)

    def metadata(self, resume_window_s: float) -> str:
        return render_initiation_metadata(
            self.session.context.call_id,
            self.output_name,
            self.input_name,
            resume_token=self.resume_token if resume_window_s > 0 else None,
            resume_window_s=resume_window_s,
        )


async def receive_loop(
    websocket: WebSocket, parser: ConversationParser, conversation: Conversation
) -> str:
    session, transport = conversation.session, conversation.transport
    while not session.closed:
        raw = await receive_frame(websocket)
        if isinstance(raw, Gone):
            return CONNECTION_LOST if raw.code in LOST_CODES else "client_disconnected"
        if len(raw) > MAX_FRAME_BYTES:
            reject(
                conversation, "frame_too_large", f"frames are limited to {MAX_FRAME_BYTES} bytes"
            )
            continue
        try:
            event = parser.parse(raw)
        except MalformedMessage as error:
            reject(conversation, error.reason, str(error))
            continue
        if isinstance(event, UserAudioChunk):
            push_audio(conversation, event.audio)
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
            reject(conversation, "unsupported", f"{type(event).__name__} is not supported")
    return "agent_ended"


def push_audio(conversation: Conversation, audio: bytes) -> None:
    if conversation.text_only:
        conversation.session.log.count("audio_in_text_only_conversation")
        return
    if conversation.inbound.wire_format.encoding == "pcm16" and len(audio) % 2:
        reject(conversation, "odd_pcm_length", "PCM16 audio must hold whole 2-byte samples")
        return
    for frame in conversation.inbound.push(audio):
        conversation.session.push_audio(frame)


def reject(conversation: Conversation, reason: str, message: str) -> None:
    MALFORMED_FRAMES.labels(channel=CHANNEL, reason=reason).inc()
    log.warning(
        "conversation %s: bad frame skipped: %s", conversation.session.context.call_id, message
    )
    conversation.session.count_malformed(reason)
    conversation.transport.send_error(message, 1008, error_type=reason)


@dataclass(frozen=True, slots=True)
class Gone:
    """The socket is closed; `code` is its close code (1006: dropped without a close frame)."""

    code: int


async def receive_frame(websocket: WebSocket) -> str | bytes | Gone:
    """The next text or binary frame, or how the socket went away."""
    try:
        message = await websocket.receive()
    except WebSocketDisconnect as gone:
        return Gone(gone.code)
    except RuntimeError:
        return Gone(ABNORMAL_CLOSURE)
    if message["type"] == "websocket.disconnect":
        code = int(message.get("code") or 1000)
        # uvicorn reports a close frame with its reason (possibly empty) and a connection lost
        # after the handshake as 1005 without one: only the second is a drop.
        if code == NO_STATUS and "reason" not in message:
            code = ABNORMAL_CLOSURE
        return Gone(code)
    text = message.get("text")
    return text if text is not None else (message.get("bytes") or b"")
