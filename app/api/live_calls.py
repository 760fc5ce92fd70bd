"""Calls in progress, on every node: the list, a live stream of what happens in them, and a
supervisor's "end this call" (Velox's own paths under `/v1/calls/live`).

The list comes from the database (calls in progress on a node that is still beating). The
stream is server-sent events: one `data:` line of JSON per moment (`call_started`, `turn` with
the transcript line and its latencies, `event`, `user_turn_withdrawn`, `call_ended`), from every
node when the nodes share Redis (`VELOX_REDIS_URL`). Ending a call is sent to the node holding it.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import timedelta

from fastapi import APIRouter, Request, status
from fastapi.responses import StreamingResponse
from pydantic import BaseModel

from app.api.deps import OrganizationDep, PrincipalDep, SessionDep, audit
from app.api.errors import not_found
from app.api.openapi import error_responses
from app.api.times import unix_or_none
from app.calls.runtime import VoiceRuntime
from app.db import voice_nodes

router = APIRouter(prefix="/v1/calls/live", tags=["live calls"])

# A comment line this often keeps proxies from closing a quiet stream.
KEEP_ALIVE_S = 15.0


class LiveCall(BaseModel):
    conversation_id: str
    agent_id: str
    channel: str
    direction: str
    from_number: str
    to_number: str
    started_at_unix_secs: int | None
    node_id: str | None


class LiveCalls(BaseModel):
    calls: list[LiveCall]


def _runtime(request: Request) -> VoiceRuntime:
    runtime: VoiceRuntime = request.app.state.voice
    return runtime


def _silent_for(runtime: VoiceRuntime) -> timedelta:
    return timedelta(seconds=runtime.settings.node_lost_after_s)


@router.get("")
def list_live_calls(
    request: Request, session: SessionDep, organization: OrganizationDep
) -> LiveCalls:
    runtime = _runtime(request)
    calls = voice_nodes.live_calls(session, organization.id, silent_for=_silent_for(runtime))
    return LiveCalls(
        calls=[
            LiveCall(
                conversation_id=c.id,
                agent_id=c.agent_id,
                channel=c.channel,
                direction=c.direction,
                from_number=c.from_number,
                to_number=c.to_number,
                started_at_unix_secs=unix_or_none(c.started_at),
                node_id=c.node_id,
            )
            for c in calls
        ]
    )


@router.get(
    "/events",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "moments as SSE"}},
)
async def live_events(request: Request, organization: OrganizationDep) -> StreamingResponse:
    """Server-sent events: each moment of the organization's calls as it happens."""
    bus = _runtime(request).live
    organization_id = organization.id

    async def stream() -> AsyncIterator[str]:
        # Subscribed before the client hears it is connected: nothing after that is missed.
        moments = await bus.subscribe(organization_id)
        yield ": connected\n\n"
        waiting: asyncio.Task[dict[str, object]] | None = None
        try:
            while not await request.is_disconnected():
                if waiting is None:
                    waiting = asyncio.ensure_future(moments.next())
                done, _ = await asyncio.wait({waiting}, timeout=KEEP_ALIVE_S)
                if not done:
                    yield ": keep-alive\n\n"
                    continue
                moment, waiting = waiting.result(), None
                yield f"event: {moment.get('type', 'moment')}\ndata: {json.dumps(moment)}\n\n"
        finally:
            if waiting is not None:
                waiting.cancel()
            await moments.close()

    return StreamingResponse(
        stream(), media_type="text/event-stream", headers={"Cache-Control": "no-store"}
    )


@router.post(
    "/{conversation_id}/end",
    status_code=status.HTTP_202_ACCEPTED,
    responses=error_responses(404),
)
async def end_live_call(
    conversation_id: str, request: Request, session: SessionDep, principal: PrincipalDep
) -> dict[str, str]:
    """Hang up a call in progress, on whichever node holds it; it is saved ended
    `ended_by_supervisor`."""
    runtime = _runtime(request)
    call = voice_nodes.live_call(
        session, principal.organization.id, conversation_id, silent_for=_silent_for(runtime)
    )
    if call is None or call.node_id is None:
        raise not_found("live_call", conversation_id)
    audit(session, principal, "changed", "conversation", conversation_id, request="end")
    await runtime.live.command(call.node_id, {"action": "end", "conversation_id": call.id})
    return {"status": "ending", "node_id": call.node_id}
