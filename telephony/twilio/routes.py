"""Twilio's HTTP and WebSocket endpoints: voice webhook, status callback, Media Streams."""

from __future__ import annotations

import asyncio
import logging

from fastapi import APIRouter, Request, Response, WebSocket
from fastapi.responses import FileResponse

from app.audio.formats import MULAW_8K
from app.calls import lifecycle
from app.calls.overrides import answered_config, answered_variables
from app.calls.runtime import VoiceRuntime
from app.config.agent import AgentConfig
from app.db import agents as agent_queries
from app.db import calls as call_queries
from app.db import phone_numbers as number_queries
from app.engine.conversation import CallContext, render_first_message
from app.limits.calls import new_call_refusal
from app.observability.metrics import CALLS_REFUSED_DRAINING, WEBHOOK_REJECTIONS
from app.outbound.calls import hang_up_verdicts
from telephony.twilio import twiml
from telephony.twilio.briefings import audio_url
from telephony.twilio.media import ROUTING_PARAMETERS, briefing_audio, serve_media_stream
from telephony.twilio.outbound import voicemail_message
from telephony.twilio.rest import TwilioRestError, twilio_rest
from telephony.twilio.signature import SIGNATURE_HEADER, TwilioSignature

log = logging.getLogger(__name__)

# Twilio's own webhooks (its form posts, signed by it), not the client API: kept out of the
# OpenAPI schema, which generated clients are built from.
router = APIRouter(prefix="/twilio", tags=["twilio"], include_in_schema=False)

NO_AGENT_MESSAGE = "Sorry, this number is not connected to an agent. Goodbye."
UNAVAILABLE_MESSAGE = "Sorry, the assistant is not available right now. Please call again later."
BUSY_MESSAGE = "Sorry, all of our lines are busy right now. Please call again in a few minutes."
XML = "application/xml"


def _runtime(request: Request | WebSocket) -> VoiceRuntime:
    runtime: VoiceRuntime = request.app.state.voice
    return runtime


def _signed_urls(request: Request | WebSocket, runtime: VoiceRuntime) -> list[str]:
    """The URL Twilio requested, as the public base URL says, and as this server saw it."""
    query = f"?{request.url.query}" if request.url.query else ""
    public = runtime.settings.resolved_public_url() + request.url.path + query
    return [public, str(request.url)]


async def _verified_form(request: Request, endpoint: str) -> dict[str, str] | None:
    runtime = _runtime(request)
    form = {key: str(value) for key, value in (await request.form()).items()}
    checker = TwilioSignature(runtime.settings.twilio_auth_token)
    signature = request.headers.get(SIGNATURE_HEADER)
    if not checker.is_valid(_signed_urls(request, runtime), form, signature):
        WEBHOOK_REJECTIONS.labels(endpoint=endpoint).inc()
        log.warning("rejected %s request with a bad Twilio signature", endpoint)
        return None
    return form


@router.post("/voice")
async def voice_webhook(request: Request) -> Response:
    """A call came in: answer with `<Connect><Stream>` to this service's Media Streams socket."""
    form = await _verified_form(request, "voice")
    if form is None:
        return Response("invalid Twilio signature", status_code=403)
    runtime = _runtime(request)
    if runtime.draining:
        # Shutting down: Twilio tries the number's fallback URL (a load balancer's retry
        # reaches another node); the calls this node holds go on.
        CALLS_REFUSED_DRAINING.labels(channel="twilio").inc()
        return Response("this node is shutting down", status_code=503, headers={"Retry-After": "5"})
    outbound_id = request.query_params.get("conversation_id")
    if outbound_id:  # an outbound call we placed has been answered
        opened = await asyncio.to_thread(_open_outbound_call, runtime, form, outbound_id)
        if opened is None:
            return Response(twiml.apology(UNAVAILABLE_MESSAGE), media_type=XML)
    else:
        agent_id = request.query_params.get("agent_id")
        opened = await asyncio.to_thread(_open_inbound_call, runtime, form, agent_id)
        if opened is None:
            return Response(twiml.apology(NO_AGENT_MESSAGE), media_type=XML)
    call_id, organization_id, resolved_agent_id, config, stored_variables = opened
    limited = await asyncio.to_thread(new_call_refusal, runtime, organization_id, channel="twilio")
    if limited is not None:  # the organization's cap of calls at once or rate of new calls
        await lifecycle.refuse(
            runtime,
            call_id,
            organization_id,
            resolved_agent_id,
            reason=limited.kind,
            detail=limited.message,
        )
        return Response(twiml.apology(BUSY_MESSAGE), media_type=XML)
    try:
        providers = await lifecycle.call_providers(runtime, organization_id, config)
    except lifecycle.CallRefusedError as refused:
        log.error("agent %s cannot take calls: %s", resolved_agent_id, refused)
        await lifecycle.refuse(
            runtime,
            call_id,
            organization_id,
            resolved_agent_id,
            reason=refused.reason,
            detail=str(refused),
        )
        return Response(twiml.apology(UNAVAILABLE_MESSAGE), media_type=XML)
    # Other query parameters of the webhook URL become the prompt's dynamic variables, after
    # those the client gave when it placed an outbound call.
    variables = stored_variables | {
        k: v for k, v in request.query_params.items() if k not in ROUTING_PARAMETERS
    }
    context = CallContext(
        call_id=call_id,
        organization_id=organization_id,
        agent_id=resolved_agent_id,
        caller_number=form.get("From", ""),
        called_number=form.get("To", ""),
        provider_call_sid=form.get("CallSid", ""),
        dynamic_variables=variables,
    )
    # Twilio connects the stream a moment from now: have the greeting ready by then.
    greeting = await render_first_message(config, context)
    runtime.phrases.warm(
        providers.tts,
        greeting.text,
        config.conversation_config.tts.voice_id,
        providers.tts.output_format(MULAW_8K),
    )
    document = twiml.connect_stream(
        twiml.media_stream_url(runtime.settings.resolved_public_url()),
        {
            **variables,
            "organization_id": organization_id,
            "agent_id": resolved_agent_id,
            "conversation_id": call_id,
        },
    )
    return Response(document, media_type=XML)


# The answered call: its id, organization, agent, the agent's settings for it, its variables.
OpenedCall = tuple[str, str, str, AgentConfig, dict[str, str]]


def _open_inbound_call(
    runtime: VoiceRuntime, form: dict[str, str], agent_id: str | None
) -> OpenedCall | None:
    called, caller = form.get("To", ""), form.get("From", "")
    with runtime.database.session() as db:
        phone_number_id = None
        if agent_id:
            agent = agent_queries.get_agent_for_call(db, agent_id)
        else:
            number = number_queries.find_by_number(db, called)
            if number is None or number.agent_id is None:
                log.warning("inbound call to %s: no agent is assigned to that number", called)
                return None
            phone_number_id = number.id
            agent = agent_queries.get_agent_for_call(db, number.agent_id)
        if agent is None:
            return None
        call = call_queries.create_call(
            db,
            agent.organization_id,
            agent_id=agent.id,
            direction="inbound",
            channel="twilio",
            from_number=caller,
            to_number=called,
            provider_call_sid=form.get("CallSid") or None,
            phone_number_id=phone_number_id,
        )
        return call.id, agent.organization_id, agent.id, agent_queries.agent_config(agent), {}


def _open_outbound_call(
    runtime: VoiceRuntime, form: dict[str, str], call_id: str
) -> OpenedCall | None:
    with runtime.database.session() as db:
        call = call_queries.find_call_for_webhook(db, form.get("CallSid", ""), call_id)
        if call is None or call.direction != "outbound" or call.status != "initiated":
            log.warning("answered outbound call %s is unknown or already over", call_id)
            return None
        agent = agent_queries.get_agent(db, call.organization_id, call.agent_id)
        if agent is None:
            log.warning("outbound call %s: its agent %s was deleted", call_id, call.agent_id)
            return None
        config = answered_config(agent_queries.agent_config(agent), call.initiation)
        variables = answered_variables(call.initiation)
        return call.id, call.organization_id, agent.id, config, variables


@router.post("/status")
async def status_callback(request: Request) -> Response:
    """Twilio reports a call's progress (ringing, answered, completed, busy...)."""
    form = await _verified_form(request, "status")
    if form is None:
        return Response("invalid Twilio signature", status_code=403)
    runtime = _runtime(request)
    call_sid, status = form.get("CallSid", ""), form.get("CallStatus", "")
    if not call_sid or not status:
        return Response("CallSid and CallStatus are required", status_code=400)
    call_id = request.query_params.get("conversation_id")

    def record() -> bool:
        with runtime.database.session() as db:
            found = call_queries.record_status_callback(db, call_sid, status, form, call_id=call_id)
            return found is not None

    if not await asyncio.to_thread(record):
        log.info("status callback for unknown call %s (%s)", call_sid, status)
    return Response(status_code=204)


@router.post("/amd")
async def answering_machine_callback(request: Request) -> Response:
    """Twilio's asynchronous answering-machine verdict for an outbound call we placed.

    Stored on the call; when the verdict ends a machine's greeting and the call was placed to
    leave a voicemail, the live call speaks the message and hangs up; when it is one the call
    was told to hang up on (a machine, say), the call is hung up through Twilio's REST API.
    """
    form = await _verified_form(request, "amd")
    if form is None:
        return Response("invalid Twilio signature", status_code=403)
    runtime = _runtime(request)
    call_sid, answered_by = form.get("CallSid", ""), form.get("AnsweredBy", "")
    if not call_sid or not answered_by:
        return Response("CallSid and AnsweredBy are required", status_code=400)
    call_id = request.query_params.get("conversation_id")

    def record() -> tuple[str, frozenset[str], str | None] | None:
        with runtime.database.session() as db:
            call = call_queries.record_answered_by(db, call_sid, call_id, form)
            if call is None:
                return None
            message = voicemail_message(call.initiation, answered_by)
            return call.id, hang_up_verdicts(call.initiation), message

    found = await asyncio.to_thread(record)
    if found is None:
        log.info("answering-machine verdict for unknown call %s (%s)", call_sid, answered_by)
        return Response(status_code=204)
    conversation_id, hang_up_on, message = found
    session = runtime.live_calls.get(conversation_id)
    if message is not None and session is not None and await session.leave_voicemail(message):
        log.info("leaving voicemail on call %s (%s)", conversation_id, answered_by)
    elif message is not None or answered_by in hang_up_on:
        # A voicemail this node cannot leave (the call's media is on another node, which cannot
        # be reached from here yet, or already over) is a hang-up: better than the agent
        # talking on to a machine.
        try:
            await twilio_rest(runtime.settings).hang_up(call_sid)
        except TwilioRestError as error:
            log.error("could not hang up on %s (%s): %s", call_sid, answered_by, error)
            return Response(status_code=204)
        log.info("hung up call %s: answered by %s", conversation_id, answered_by)
    return Response(status_code=204)


@router.post("/briefing")
async def warm_transfer_whisper(request: Request, token: str = "") -> Response:
    """Twilio's whisper of a warm transfer: the person who answered hears the call's summary
    (`briefings.py`), then is joined to the caller."""
    if await _verified_form(request, "briefing") is None:
        return Response("invalid Twilio signature", status_code=403)
    runtime = _runtime(request)
    if briefing_audio(runtime).path(token) is None:
        return Response("no such briefing", status_code=404)
    public = runtime.settings.resolved_public_url()
    return Response(twiml.play(audio_url(public, token)), media_type=XML)


@router.get("/briefings/{token}.wav")
async def warm_transfer_audio(request: Request, token: str) -> Response:
    """A warm transfer's audio (its unguessable token is the key; kept an hour)."""
    path = briefing_audio(_runtime(request)).path(token)
    if path is None:
        return Response("no such briefing", status_code=404)
    return FileResponse(path, media_type="audio/wav")


@router.websocket("/media")
async def media_stream(websocket: WebSocket) -> None:
    runtime = _runtime(websocket)
    checker = TwilioSignature(runtime.settings.twilio_auth_token)
    signature = websocket.headers.get(SIGNATURE_HEADER)
    if not checker.is_valid(_signed_urls(websocket, runtime), {}, signature):
        WEBHOOK_REJECTIONS.labels(endpoint="media").inc()
        log.warning("rejected a Media Streams upgrade with a bad Twilio signature")
        await websocket.close(code=1008)  # before accept: the upgrade is answered 403
        return
    await websocket.accept()
    await serve_media_stream(websocket, runtime)
