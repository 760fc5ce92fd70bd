"""`WS /v1/convai/conversation`: the ElevenLabs Agents conversation socket, for web and app calls.

The upgrade is where access is decided (public agent, signed URL or API key; or, for a
conversation whose connection dropped, its id and resume token); a refused upgrade gets an HTTP
error response naming the reason. The subprotocol `convai` is accepted when the
client offers it (the browser client does; the Python SDK offers none), and a signed URL's token
may also travel as a `bearer.<token>` subprotocol.
"""

from __future__ import annotations

import asyncio
import logging

from fastapi import APIRouter, WebSocket
from fastapi.responses import JSONResponse

from app.calls.access import AccessRefusedError, Admission, admit
from app.calls.runtime import VoiceRuntime
from app.observability.metrics import CONVERSATION_REFUSALS
from telephony.convai.conversation_socket import HELD, resume_conversation, serve_conversation
from telephony.convai.resume import ResumeRefusedError

log = logging.getLogger(__name__)

router = APIRouter(prefix="/v1/convai", tags=["conversations"])

SUBPROTOCOL = "convai"
BEARER_PREFIX = "bearer."


def _offered_subprotocols(websocket: WebSocket) -> list[str]:
    return [str(p) for p in websocket.scope.get("subprotocols", [])]


def _token(websocket: WebSocket) -> str | None:
    query_token = websocket.query_params.get("conversation_signature")
    if query_token:
        return query_token
    for protocol in _offered_subprotocols(websocket):
        if protocol.startswith(BEARER_PREFIX):
            return protocol[len(BEARER_PREFIX) :]
    return None


def _api_key(websocket: WebSocket) -> str | None:
    key = websocket.headers.get("xi-api-key")
    if key:
        return key
    scheme, _, credentials = websocket.headers.get("authorization", "").partition(" ")
    return credentials if scheme.lower() == "bearer" and credentials else None


async def _deny(websocket: WebSocket, reason: str, message: str, status: int) -> None:
    CONVERSATION_REFUSALS.labels(reason=reason).inc()
    log.info("conversation refused at the upgrade: %s (%s)", reason, message)
    body = {"detail": {"status": reason, "message": message}}
    if "websocket.http.response" in websocket.scope.get("extensions", {}):
        await websocket.send_denial_response(JSONResponse(body, status_code=status))
    else:  # a server without denial responses answers a close before accept with 403
        await websocket.close(code=1008, reason=message[:120])


@router.websocket("/conversation")
async def conversation_socket(websocket: WebSocket) -> None:
    runtime: VoiceRuntime = websocket.app.state.voice
    secret = runtime.settings.signing_secret()
    resume_id = websocket.query_params.get("conversation_id")
    if resume_id:
        await _resume(websocket, runtime, resume_id)
        return

    def decide() -> Admission:
        with runtime.database.session() as db:
            return admit(
                db,
                secret=secret,
                agent_id=websocket.query_params.get("agent_id"),
                token=_token(websocket),
                api_key=_api_key(websocket),
            )

    try:
        admission = await asyncio.to_thread(decide)
    except AccessRefusedError as refusal:
        await _deny(websocket, refusal.reason, str(refusal), refusal.status)
        return
    await websocket.accept(subprotocol=_subprotocol(websocket))
    await serve_conversation(websocket, runtime, admission)


async def _resume(websocket: WebSocket, runtime: VoiceRuntime, conversation_id: str) -> None:
    """A client coming back to a conversation whose connection dropped: its resume token is
    its credential (the signed URL it first used is spent)."""
    token = websocket.query_params.get("resume_token", "")
    agent_id = websocket.query_params.get("agent_id")
    try:
        HELD.check(conversation_id, agent_id, token)
    except ResumeRefusedError as refusal:
        await _deny(websocket, refusal.reason, str(refusal), refusal.status)
        return
    await websocket.accept(subprotocol=_subprotocol(websocket))
    await resume_conversation(websocket, runtime, conversation_id, agent_id, token)


def _subprotocol(websocket: WebSocket) -> str | None:
    return SUBPROTOCOL if SUBPROTOCOL in _offered_subprotocols(websocket) else None
