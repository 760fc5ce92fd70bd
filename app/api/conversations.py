"""ElevenLabs-compatible conversation history under ``/v1/convai/conversations``.

A conversation is a Velox call; Velox-only detail (events, call metrics, per-turn latencies)
rides along under ``velox`` and ``velox_metrics`` keys that ElevenLabs clients ignore. The list
takes ElevenLabs' filters and Velox's (app/api/call_filters.py), and `/export` streams the same
list as CSV (app/api/call_export.py).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from app.analysis.runs import analysis_body
from app.api.call_export import csv_stream
from app.api.call_filters import CallFiltersDep, SortDirectionDep, rejected
from app.api.deps import OrganizationDep, SessionDep, get_database
from app.api.errors import not_found
from app.api.openapi import error_responses
from app.api.times import unix
from app.api.transcript_tools import (
    TranscriptToolCall,
    TranscriptToolResult,
    tool_calls,
    tool_results,
)
from app.db import agents as agent_queries
from app.db import analyses as analysis_queries
from app.db import call_search
from app.db import calls as call_queries
from app.db.agents import agent_config
from app.db.models import Call, Turn
from app.db.paging import InvalidCursorError

router = APIRouter(prefix="/v1/convai/conversations", tags=["conversations"])

# ElevenLabs' ``metadata.phone_call.type`` for each Velox telephony channel.
PHONE_CALL_TYPES = {"twilio": "twilio", "sip": "sip_trunking"}


class ConversationSummary(BaseModel):
    agent_id: str
    agent_name: str
    conversation_id: str
    start_time_unix_secs: int
    call_duration_secs: int
    message_count: int
    status: str
    call_successful: str = "unknown"
    direction: str
    termination_reason: str
    channel: str  # Velox: twilio, sip or websocket (web and app conversations)
    # Velox: the call's two ends ("" when a web or app conversation has none), its outcome
    # (the campaign dial's, else the analysis'), the analysis' sentiment, and whether a
    # recording can be fetched from `/{conversation_id}/audio`.
    from_number: str = ""
    to_number: str = ""
    outcome: str | None = None
    sentiment: str | None = None
    has_audio: bool = False


class ConversationsPage(BaseModel):
    conversations: list[ConversationSummary]
    has_more: bool
    next_cursor: str | None


class RagChunk(BaseModel):
    document_id: str
    chunk_id: str
    vector_distance: float


class RagRetrievalInfo(BaseModel):
    """ElevenLabs' shape: the passages retrieved for the answer this entry is."""

    chunks: list[RagChunk]
    embedding_model: str
    retrieval_query: str
    rag_latency_secs: float


class AgentMetadata(BaseModel):
    """ElevenLabs' shape: which agent spoke this entry (set once a call was transferred)."""

    agent_id: str


class TranscriptEntry(BaseModel):
    role: str
    message: str
    time_in_call_secs: int
    interrupted: bool
    velox_source: str
    velox_metrics: dict[str, Any]
    tool_calls: list[TranscriptToolCall] = Field(default_factory=list)
    tool_results: list[TranscriptToolResult] = Field(default_factory=list)
    rag_retrieval_info: RagRetrievalInfo | None = None
    agent_metadata: AgentMetadata | None = None


class PhoneCallMetadata(BaseModel):
    type: str
    direction: str
    phone_number_id: str
    agent_number: str
    external_number: str
    call_sid: str
    stream_sid: str


class ConversationMetadata(BaseModel):
    start_time_unix_secs: int
    call_duration_secs: int
    termination_reason: str
    phone_call: PhoneCallMetadata | None


class VeloxCallDetail(BaseModel):
    channel: str
    # The call's direction and two ends for every channel (`metadata.phone_call` has them only
    # for a carrier call with its call sid); "" where a web or app conversation has no number.
    direction: str = "inbound"
    from_number: str = ""
    to_number: str = ""
    provider_status: str | None
    # Twilio's answering-machine verdict, for an outbound call that asked for detection.
    answered_by: str | None = None
    # pending, running, done or failed; None for a call that never reached the engine.
    analysis_status: str | None = None
    metrics: dict[str, Any]
    events: list[dict[str, Any]]
    # The latest reviewer feedback (`like` or `dislike`, POST `/{id}/feedback`); None without.
    feedback: str | None = None


class ConversationResponse(BaseModel):
    agent_id: str
    conversation_id: str
    status: str
    transcript: list[TranscriptEntry]
    metadata: ConversationMetadata
    user_message_count: int
    agent_message_count: int
    has_audio: bool = False
    has_user_audio: bool = False
    has_response_audio: bool = False
    has_auxiliary_audio: bool = False
    # The post-call analysis, once a worker has made it (None until then; see
    # `velox.analysis_status`): ElevenLabs' fields plus Velox's outcome, sentiment and metrics.
    analysis: dict[str, Any] | None = None
    velox: VeloxCallDetail


def _start_time_unix_secs(call: Call) -> int:
    return unix(call.started_at or call.created_at)


def _duration_secs(call: Call) -> int:
    return round(call.duration_secs or 0.0)


def _phone_call(call: Call) -> PhoneCallMetadata | None:
    phone_call_type = PHONE_CALL_TYPES.get(call.channel)
    if phone_call_type is None or call.provider_call_sid is None:
        return None
    inbound = call.direction == "inbound"
    return PhoneCallMetadata(
        type=phone_call_type,
        direction=call.direction,
        phone_number_id=call.phone_number_id or "",
        agent_number=call.to_number if inbound else call.from_number,
        external_number=call.from_number if inbound else call.to_number,
        call_sid=call.provider_call_sid,
        stream_sid=call.stream_sid or "",
    )


def _retrievals_by_answer(turns: list[Turn], events: list[Any]) -> dict[int, RagRetrievalInfo]:
    """Each `knowledge_retrieved` event given to the agent turn that answered with it: the
    first agent turn at or after it, unless the caller spoke again in between."""
    infos: dict[int, RagRetrievalInfo] = {}
    retrievals = sorted(
        (event for event in events if event.kind == "knowledge_retrieved"), key=lambda e: e.at_ms
    )
    for event in retrievals:
        for index, turn in enumerate(turns):
            at_ms = turn.time_in_call_secs * 1000
            if at_ms < event.at_ms or index in infos:
                continue
            if turn.role == "agent":
                data = event.data
                infos[index] = RagRetrievalInfo(
                    chunks=[
                        RagChunk(
                            document_id=chunk["document_id"],
                            chunk_id=chunk["id"],
                            vector_distance=chunk["distance"],
                        )
                        for chunk in data.get("chunks", [])
                    ],
                    embedding_model=data.get("embedding_model", "all_minilm_l6_v2"),
                    retrieval_query=data.get("query", ""),
                    rag_latency_secs=data.get("retrieval_ms", 0.0) / 1000,
                )
            break
    return infos


def _transcript_entry(turn: Turn, rag: RagRetrievalInfo | None = None) -> TranscriptEntry:
    return TranscriptEntry(
        rag_retrieval_info=rag,
        role=turn.role,
        message=turn.message,
        # The SDK's model declares whole seconds; a float here would fail its parsing.
        time_in_call_secs=int(turn.time_in_call_secs),
        interrupted=turn.interrupted,
        velox_source=turn.source,
        velox_metrics=turn.metrics,
        tool_calls=tool_calls(turn.tool_calls),
        tool_results=tool_results(turn.tool_results),
        agent_metadata=(
            AgentMetadata(agent_id=str(agent_id))
            if (agent_id := (turn.metrics or {}).get("agent_id"))
            else None
        ),
    )


@router.get("", response_model=ConversationsPage, responses=error_responses(422))
def list_conversations(
    organization: OrganizationDep,
    session: SessionDep,
    filters: CallFiltersDep,
    direction: SortDirectionDep,
    cursor: str | None = None,
    page_size: Annotated[int, Query(ge=1, le=100)] = 30,
) -> ConversationsPage:
    """The organization's conversations that the filters allow, newest first (or oldest, with
    `sort_direction=asc`). Pages follow `next_cursor`: calls stored meanwhile shift nothing."""
    try:
        page = call_search.find_calls(
            session,
            organization.id,
            filters,
            direction=direction,
            page_size=page_size,
            cursor=cursor,
        )
    except InvalidCursorError as error:
        raise rejected("invalid_cursor", str(error)) from error
    return ConversationsPage(
        conversations=[
            ConversationSummary(
                agent_id=summary.call.agent_id,
                agent_name=summary.agent_name,
                conversation_id=summary.call.id,
                start_time_unix_secs=_start_time_unix_secs(summary.call),
                call_duration_secs=_duration_secs(summary.call),
                message_count=summary.message_count,
                status=summary.call.status,
                call_successful=summary.call_successful or "unknown",
                direction=summary.call.direction,
                termination_reason=summary.call.termination_reason,
                channel=summary.call.channel,
                from_number=summary.call.from_number or "",
                to_number=summary.call.to_number or "",
                outcome=summary.outcome,
                sentiment=summary.sentiment,
                has_audio=summary.call.recording_path is not None,
            )
            for summary in page.items
        ],
        has_more=page.has_more,
        next_cursor=page.next_cursor,
    )


# Declared before `/{conversation_id}`, which would otherwise take "export" for an id.
@router.get(
    "/export",
    response_class=StreamingResponse,
    responses={
        200: {
            "content": {"text/csv": {"schema": {"type": "string"}}},
            "description": "One header line, then one line per conversation",
        },
        **error_responses(422),
    },
)
def export_conversations(
    request: Request,
    organization: OrganizationDep,
    filters: CallFiltersDep,
    direction: SortDirectionDep,
) -> StreamingResponse:
    """The conversations the same filters allow, all of them, as CSV streamed in batches:
    conversation_id, start_time (UTC), start_time_unix_secs, call_duration_secs, status,
    direction, channel, agent_id, agent_name, from_number, to_number, campaign_id,
    message_count, interrupted_turns, call_successful, outcome, sentiment, termination_reason,
    summary."""
    return StreamingResponse(
        csv_stream(get_database(request), organization.id, filters, direction),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="conversations.csv"'},
    )


@router.get("/{conversation_id}", response_model=ConversationResponse)
def get_conversation(
    conversation_id: str, organization: OrganizationDep, session: SessionDep
) -> ConversationResponse:
    """One conversation with its transcript, per-turn latencies and call events."""
    call = call_queries.get_call(session, organization.id, conversation_id)
    if call is None:
        raise not_found("conversation", conversation_id)
    analysis = analysis_queries.analysis_of(session, call.id)
    finished = analysis is not None and analysis.status in ("done", "failed")
    agent = agent_queries.get_agent(session, organization.id, call.agent_id) if finished else None
    retrievals = _retrievals_by_answer(list(call.turns), list(call.events))
    return ConversationResponse(
        agent_id=call.agent_id,
        conversation_id=call.id,
        status=call.status,
        transcript=[
            _transcript_entry(turn, retrievals.get(index)) for index, turn in enumerate(call.turns)
        ],
        metadata=ConversationMetadata(
            start_time_unix_secs=_start_time_unix_secs(call),
            call_duration_secs=_duration_secs(call),
            termination_reason=call.termination_reason,
            phone_call=_phone_call(call),
        ),
        user_message_count=sum(1 for turn in call.turns if turn.role == "user"),
        agent_message_count=sum(1 for turn in call.turns if turn.role == "agent"),
        has_audio=call.recording_path is not None,
        has_user_audio=call.recording_path is not None and call.has_user_audio,
        has_response_audio=call.recording_path is not None and call.has_response_audio,
        analysis=analysis_body(analysis, agent_config(agent) if agent else None)
        if analysis is not None and finished
        else None,
        velox=VeloxCallDetail(
            channel=call.channel,
            direction=call.direction,
            from_number=call.from_number or "",
            to_number=call.to_number or "",
            provider_status=call.provider_status,
            answered_by=call.answered_by,
            analysis_status=analysis.status if analysis is not None else None,
            metrics=call.metrics,
            feedback=call.feedback,
            events=[
                {"at_ms": event.at_ms, "kind": event.kind, "data": event.data}
                for event in call.events
            ],
        ),
    )
