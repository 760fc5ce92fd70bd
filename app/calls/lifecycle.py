"""One call's life, the same for every transport.

A transport (Twilio Media Streams, the conversation socket, SIP) speaks its carrier's protocol
and nothing else; for the call itself it goes through here, in this order:

1. open the record: `claim_call` (the call was recorded when it was placed or rang: Twilio's
   voice webhook, the outbound dialer) or `open_call` (it starts on the socket itself); either
   way the call is marked in progress on this node;
2. `call_providers`: the agent's provider set for this organization, fallbacks and breakers
   included, built off the event loop (`CallRefusedError` when a role has no usable provider);
3. `begin`: the `CallSession` over the transport, registered as live;
4. `start`: the session greets and listens (a failure finishes the call as failed);
5. `finish`: unregistered, closed, and its record saved in one transaction (with its webhook
   and analysis queued) by the recorder.

A call that is refused after its record was opened is saved finished and failed with why
(`refuse`), never left "in progress".
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

from app.calls.handover import OrganizationAgents
from app.calls.knowledge import agent_knowledge
from app.calls.overrides import answered_config
from app.calls.recording import CallRecording, recording_path
from app.calls.runtime import VoiceRuntime
from app.calls.store import RedactingRecorder
from app.calls.tools import load_call_tools
from app.calls.tracing import CallTrace, TracedRecorder
from app.config.agent import AgentConfig
from app.config.credentials import CredentialBox
from app.db import agents as agent_queries
from app.db import calls as call_queries
from app.engine.conversation import CallContext
from app.engine.record import CallEvent, CallRecord
from app.engine.session import CallSession
from app.engine.transport import CallTransport, ConversationEvents
from app.observability.metrics import CALLS_STARTED, TOOL_CALLS
from app.providers.registry import ProviderSet

log = logging.getLogger(__name__)

# A recording keeps the agent's audio this long past the playout lead before writing it, so a
# `clear` (a barge-in) can still cut what the caller never heard.
RECORDING_MARGIN_S = 0.5


class CallRefusedError(Exception):
    """The call cannot run; `reason` is short and machine-readable, the message says why."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class ClaimedCall:
    """A recorded call whose media has arrived: the settings it runs with and its numbers."""

    config: AgentConfig
    caller_number: str
    called_number: str
    # Placed asking to be recorded (an outbound call's `call_recording_enabled`).
    record_voice: bool = False


def claim_call(
    runtime: VoiceRuntime,
    organization_id: str,
    agent_id: str,
    call_id: str,
    *,
    stream_sid: str | None = None,
) -> ClaimedCall | None:
    """Mark a recorded call in progress on this node (blocking). None if the organization has
    no such call of that agent. An outbound call runs with the overrides it was placed with."""
    with runtime.database.session() as db:
        agent = agent_queries.get_agent(db, organization_id, agent_id)
        call = call_queries.mark_in_progress(
            db, organization_id, call_id, stream_sid=stream_sid, node_id=runtime.node_id
        )
        if agent is None or call is None or call.agent_id != agent_id:
            return None
        config = answered_config(agent_queries.agent_config(agent), call.initiation)
        record_voice = bool((call.initiation or {}).get("record_voice"))
        return ClaimedCall(config, call.from_number or "", call.to_number or "", record_voice)


def open_call(
    runtime: VoiceRuntime,
    organization_id: str,
    agent_id: str,
    *,
    channel: str,
    from_number: str = "",
) -> str:
    """Record an inbound call that starts on its transport, in progress on this node (blocking);
    its id."""
    with runtime.database.session() as db:
        call = call_queries.create_call(
            db,
            organization_id,
            agent_id=agent_id,
            direction="inbound",
            channel=channel,
            from_number=from_number,
        )
        call_queries.mark_in_progress(db, organization_id, call.id, node_id=runtime.node_id)
        return call.id


async def call_providers(
    runtime: VoiceRuntime, organization_id: str, config: AgentConfig
) -> ProviderSet:
    """The provider set a call of this organization runs on. `CallRefusedError` (no_provider)
    when a role has none usable: unknown, no key stored, not loadable."""
    try:
        return await asyncio.to_thread(runtime.call_providers, organization_id, config)
    except Exception as error:
        raise CallRefusedError("no_provider", str(error)) from error


def begin(
    runtime: VoiceRuntime,
    *,
    context: CallContext,
    config: AgentConfig,
    providers: ProviderSet,
    transport: CallTransport,
    events: ConversationEvents | None = None,
    text_only: bool = False,
    can_transfer: bool = True,
    record_voice: bool = False,
) -> CallSession:
    """The call's session over its transport, registered as live on this node; recorded when
    the agent records every call or this one asked to be."""
    tap = None
    if (config.platform_settings.privacy.record_voice or record_voice) and not text_only:
        tap = CallRecording(
            runtime.recordings,
            runtime.settings.resolved_recordings_dir(),
            recording_path(context.organization_id, context.call_id),
            rate=transport.output_format.sample_rate,
            hold_s=runtime.options.playout_lead_ms / 1000 + RECORDING_MARGIN_S,
        )
    # The call's span, its ids bound to this task's log lines (and the tasks it starts).
    call_trace = CallTrace(context)
    session = CallSession(
        context=context,
        config=config,
        providers=providers,
        transport=transport,
        recorder=TracedRecorder(
            RedactingRecorder(runtime.recorder)
            if config.platform_settings.privacy.redact_pii
            else runtime.recorder,
            call_trace,
        ),
        options=runtime.options,
        phrases=runtime.phrases,
        events=events,
        text_only=text_only,
        can_transfer=can_transfer,
        audio_tap=tap,
        disclosure=config.velox.recording_disclosure if tap is not None else "",
        knowledge=agent_knowledge(runtime.database, context, config),
        agents=OrganizationAgents(runtime, context),
    )
    session.log.stage_watchers.append(call_trace.turn)
    runtime.add_live_call(session)
    CALLS_STARTED.labels(channel=context.channel).inc()
    _watch_live(runtime, session)
    return session


def _watch_live(runtime: VoiceRuntime, session: CallSession) -> None:
    """Publish the call's moments for supervisors watching live calls (on any node)."""
    context = session.context
    organization_id, call_id = context.organization_id, context.call_id

    def publish(moment: dict[str, object]) -> None:
        runtime.live.publish(organization_id, {"conversation_id": call_id, **moment})

    session.log.listeners.append(publish)
    publish(
        {
            "type": "call_started",
            "agent_id": context.agent_id,
            "channel": context.channel,
            "from_number": context.caller_number,
            "to_number": context.called_number,
            "node_id": runtime.node_id,
        }
    )


async def start(runtime: VoiceRuntime, session: CallSession) -> bool:
    """Greet and listen; False (and the call finished as failed, with why) if it cannot."""
    await _offer_tools(runtime, session)
    try:
        await session.start()
    except Exception as error:
        log.exception("call %s failed to start", session.context.call_id)
        session.log.event("start_failed", error=repr(error))
        await finish(runtime, session, "start_failed", failed=True)
        return False
    return True


async def _offer_tools(runtime: VoiceRuntime, session: CallSession) -> None:
    """The agent's webhook tools for this call; a call whose tools cannot be loaded runs on
    without them (said in its events), never refused over them."""
    context = session.context
    try:
        tools = await asyncio.to_thread(
            load_call_tools,
            runtime.database,
            CredentialBox(runtime.settings.signing_secret()),
            context.organization_id,
            session.config,
            allow_private_urls=runtime.settings.allow_private_urls,
        )
        session.offer_tools(
            tools, on_outcome=lambda kind, outcome: TOOL_CALLS.labels(kind, outcome).inc()
        )
    except Exception as error:
        log.exception("call %s: its tools could not be loaded", context.call_id)
        session.log.event("tools_unavailable", error=repr(error)[:300])


async def finish(
    runtime: VoiceRuntime, session: CallSession, reason: str, *, failed: bool = False
) -> None:
    """Unregister the call and close it: its record is saved (safe to call more than once)."""
    runtime.drop_live_call(session.context.call_id)
    await session.close(reason, failed=failed)
    if session.log.listeners:  # once: a second finish finds them gone
        session.log.listeners.clear()
        runtime.live.publish(
            session.context.organization_id,
            {
                "conversation_id": session.context.call_id,
                "type": "call_ended",
                "reason": session.reason_saved(reason),
            },
        )


async def refuse(
    runtime: VoiceRuntime,
    call_id: str,
    organization_id: str,
    agent_id: str,
    *,
    reason: str,
    detail: str,
    **event: Any,
) -> None:
    """A call whose record was opened but that cannot run ends finished: failed, with why."""
    record = CallRecord.opened(call_id, organization_id, agent_id)
    record.ended_at = record.started_at
    record.status = "failed"
    record.termination_reason = reason
    record.events = [
        CallEvent(0, "start_failed", {"reason": reason, "error": detail[:500], **event})
    ]
    try:
        await runtime.recorder.save(record)
    except Exception:
        log.exception("call %s: could not be saved as refused", call_id)


# How a supervisor's end reads in the call's record.
ENDED_BY_SUPERVISOR = "ended_by_supervisor"


async def take_command(runtime: VoiceRuntime, command: dict[str, Any]) -> None:
    """A command for this node from the live-call bus: `{"action": "end", "conversation_id"}`
    ends that call if this node holds it (a call already over is left alone)."""
    if command.get("action") != "end":
        log.warning("unknown live-call command %r", command.get("action"))
        return
    session = runtime.live_calls.get(str(command.get("conversation_id")))
    if session is not None and not session.closed:
        session.end(ENDED_BY_SUPERVISOR)
