"""One conversation over the ElevenLabs Agents WebSocket, from initiation to close.

The client speaks first (`conversation_initiation_client_data`); the server answers with
`conversation_initiation_metadata` exactly once, then caller audio, typed text and tool
results flow in while agent audio and events flow out. Bad frames are answered with an
`error` event and counted; the conversation goes on.

A socket closed by its client ends the conversation. One that goes away without a close frame
(the connection dropped), or that its client closes with 4001 (Velox's code for "this
connection went quiet, I will resume"), leaves the conversation held for the resume window
(`resume.py`): the agent stops talking to nobody, and a new socket presenting the
conversation's id and resume token carries it on, history intact and no second greeting. When
the window passes, the conversation ends as if the client had closed it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from asyncio import FIRST_COMPLETED

from starlette.websockets import WebSocket

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
from app.limits.calls import new_call_refusal
from app.limits.rates import Refusal
from app.observability.metrics import CALLS_REFUSED_DRAINING, MALFORMED_FRAMES
from telephony.audio import InboundConverter
from telephony.convai.client_events import ConversationInitiation, ConversationParser
from telephony.convai.client_frames import (
    CHANNEL,
    CONNECTION_LOST,
    Conversation,
    Gone,
    receive_frame,
    receive_loop,
)
from telephony.convai.resume import HeldConversations, ResumeRefusedError, new_resume_token
from telephony.convai.server_events import render_error
from telephony.convai.transport import ConvaiTransport
from telephony.convai.turn_metrics import tell_turn_metrics
from telephony.json_frames import MalformedMessage

log = logging.getLogger(__name__)

INITIATION_TIMEOUT_S = 10.0
PING_INTERVAL_S = 5.0
# This node's conversations waiting for their client to come back.
HELD: HeldConversations[Conversation] = HeldConversations()


async def serve_conversation(
    websocket: WebSocket, runtime: VoiceRuntime, admission: Admission
) -> None:
    """Run one accepted conversation socket until the client or the agent ends it."""
    if runtime.draining:  # shutting down: the client tries again, and reaches another node
        CALLS_REFUSED_DRAINING.labels(channel="convai").inc()
        await _refuse(websocket, "this node is shutting down; try again", code=1013)
        return
    limited = await asyncio.to_thread(_opening_refusal, runtime, admission.organization_id)
    if limited is not None:  # over its rate of sockets or new calls, or at its cap of calls
        await _refuse(websocket, limited.message, code=1013, error_type=limited.kind)
        return
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
    conversation.background = [
        asyncio.create_task(transport.run_writer(), name="convai-writer"),
        asyncio.create_task(_keep_alive(transport), name="convai-ping"),
    ]
    try:
        started = await lifecycle.start(runtime, conversation.session)
    except Exception as error:
        log.exception("conversation %s failed", conversation.session.context.call_id)
        conversation.session.log.event("transport_error", error=repr(error))
        await _finish(conversation, "transport_error", runtime)
        return
    if not started:
        await _finish(conversation, "start_failed", runtime)  # finished as failed, with why
        return
    await _converse(websocket, parser, conversation, runtime)


async def resume_conversation(
    websocket: WebSocket,
    runtime: VoiceRuntime,
    conversation_id: str,
    agent_id: str | None,
    token: str,
) -> None:
    """Carry a held conversation on over a client's new socket (admitted at the upgrade by
    `HELD.check`). The metadata goes out at once, without waiting for the client's initiation
    message (a round trip saved on a slow network); a client that sends one anyway has it
    ignored: the conversation's variables and overrides were set when it began."""
    parser = ConversationParser()
    try:
        conversation = HELD.take(conversation_id, agent_id, token)
    except ResumeRefusedError as refused:  # the window closed in the meantime
        await _refuse(websocket, str(refused), error_type=refused.reason)
        return
    conversation.transport.attach(
        websocket, conversation.metadata(runtime.settings.conversation_resume_window_s)
    )
    conversation.session.line_restored()
    await _converse(websocket, parser, conversation, runtime)


async def _converse(
    websocket: WebSocket,
    parser: ConversationParser,
    conversation: Conversation,
    runtime: VoiceRuntime,
) -> None:
    """Receive from `websocket` until the conversation ends, or until its connection drops
    and the conversation is held (then either another socket takes it over, or it ends when
    the window passes)."""
    try:
        reason = await receive_loop(websocket, parser, conversation)
    except Exception as error:
        log.exception("conversation %s failed", conversation.session.context.call_id)
        conversation.session.log.event("transport_error", error=repr(error))
        reason = "transport_error"
    window_s = runtime.settings.conversation_resume_window_s
    if reason == CONNECTION_LOST and window_s > 0 and not conversation.session.closed:
        if await _held_until_resumed(conversation, window_s):
            return  # the client's new socket carries the conversation on
        reason = "client_disconnected"
    elif reason == CONNECTION_LOST:
        reason = "client_disconnected"
    await _finish(conversation, reason, runtime)


async def _held_until_resumed(conversation: Conversation, window_s: float) -> bool:
    """Hold the conversation for its client; True once a new socket took it."""
    session, call_id = conversation.session, conversation.session.context.call_id
    conversation.transport.detach()
    taken = HELD.hold(call_id, conversation.agent_id, conversation.resume_token, conversation)
    try:
        await session.line_lost()
        waiting = asyncio.ensure_future(taken.wait())
        ended = asyncio.ensure_future(session.wait_closed())
        try:
            await asyncio.wait({waiting, ended}, timeout=window_s, return_when=FIRST_COMPLETED)
        finally:
            for task in (waiting, ended):
                task.cancel()
        if taken.is_set():
            return True
        if not session.closed:
            session.log.event("resume_window_ended", window_s=window_s)
        return False
    finally:
        if not taken.is_set():
            HELD.release(call_id)


async def _receive_initiation(
    websocket: WebSocket, parser: ConversationParser
) -> ConversationInitiation | None:
    """The client's first message, which must be its initiation; else an error and a close."""
    try:
        async with asyncio.timeout(INITIATION_TIMEOUT_S):
            raw = await receive_frame(websocket)
    except TimeoutError:
        await _refuse(websocket, "no conversation_initiation_client_data within 10 s")
        return None
    if isinstance(raw, Gone):
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


def _opening_refusal(runtime: VoiceRuntime, organization_id: str) -> Refusal | None:
    """Why the organization may not open another conversation socket now, or None."""
    if not runtime.settings.rate_limits_enabled:
        return None
    opened = runtime.rates.hit("conversations", organization_id)
    return opened or new_call_refusal(runtime, organization_id, channel=CHANNEL)


async def _start(
    websocket: WebSocket,
    runtime: VoiceRuntime,
    admission: Admission,
    initiation: ConversationInitiation,
) -> Conversation | None:
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
    tell_turn_metrics(session.log, transport)
    conversation = Conversation(
        session,
        transport,
        InboundConverter(format_named(input_name)),
        text_only,
        admission.agent_id,
        output_name,
        input_name,
        new_resume_token(),
    )
    # First in the outbox, so first on the wire: clients wait for it before anything else.
    transport.post(conversation.metadata(runtime.settings.conversation_resume_window_s))
    session.log.event(
        "conversation_initiated",
        auth=admission.auth_method,
        source=initiation.source,
        source_version=initiation.source_version,
        user_id=initiation.user_id,
        text_only=text_only,
        overrides=sorted(initiation.overrides),
    )
    return conversation


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


async def _finish(conversation: Conversation, reason: str, runtime: VoiceRuntime) -> None:
    session, transport = conversation.session, conversation.transport
    await lifecycle.finish(runtime, session, reason)
    await transport.drain()
    for task in conversation.background:
        task.cancel()
    await asyncio.gather(*conversation.background, return_exceptions=True)
    await transport.close(1000)
