"""Calls and what they leave behind: turns, events and metrics, written when a call ends."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, selectinload

from app.db.analyses import queue_analysis
from app.db.models import Call, CallEvent, Turn, new_id, utc_now
from app.db.tools import count_tool_calls
from app.db.webhooks import enqueue_event

# The end reason (and event) of a call whose voice node stopped while it was in progress.
NODE_LOST = "node_lost"

CallDirection = Literal["inbound", "outbound"]

TWILIO_STATUS_EVENT = "twilio_status"
ANSWERING_MACHINE_EVENT = "answering_machine_detection"
# Twilio's CallStatus values after which the call will never get (more) media.
TERMINAL_TWILIO_STATUSES = frozenset({"completed", "busy", "no-answer", "failed", "canceled"})


def create_call(
    session: Session,
    organization_id: str,
    *,
    agent_id: str,
    direction: CallDirection,
    channel: str,
    from_number: str = "",
    to_number: str = "",
    provider_call_sid: str | None = None,
    phone_number_id: str | None = None,
    call_id: str | None = None,
) -> Call:
    """Open a call in status ``initiated``; its id is the ElevenLabs ``conversation_id``."""
    call = Call(
        id=call_id or new_id("conv"),
        organization_id=organization_id,
        agent_id=agent_id,
        direction=direction,
        channel=channel,
        from_number=from_number,
        to_number=to_number,
        provider_call_sid=provider_call_sid,
        phone_number_id=phone_number_id,
        status="initiated",
        metrics={},
    )
    session.add(call)
    session.flush()
    return call


def _find_call(session: Session, organization_id: str, call_id: str) -> Call | None:
    return session.scalar(
        select(Call).where(Call.organization_id == organization_id, Call.id == call_id)
    )


def mark_in_progress(
    session: Session,
    organization_id: str,
    call_id: str,
    *,
    stream_sid: str | None = None,
    started_at: datetime | None = None,
    node_id: str | None = None,
) -> Call | None:
    """Record that media started flowing (on voice node `node_id`); None if the organization
    has no such call."""
    call = _find_call(session, organization_id, call_id)
    if call is None:
        return None
    call.status = "in-progress"
    call.node_id = node_id
    call.started_at = started_at or utc_now()
    if stream_sid is not None:
        call.stream_sid = stream_sid
    enqueue_event(session, organization_id, "call_started", _call_summary(call))
    session.flush()
    return call


def _call_summary(call: Call) -> dict[str, Any]:
    """What a webhook says about a call (its conversation id is the API's `conversation_id`)."""
    return {
        "conversation_id": call.id,
        "agent_id": call.agent_id,
        "status": call.status,
        "direction": call.direction,
        "channel": call.channel,
        "from_number": call.from_number,
        "to_number": call.to_number,
        "call_sid": call.provider_call_sid,
        "start_time_unix_secs": int(call.started_at.timestamp()) if call.started_at else None,
    }


def finish_lost_call(session: Session, call: Call, last_seen: datetime) -> None:
    """A call whose voice node is gone: failed, `node_lost`, ended when the node was last seen.

    Its media and transcript died with the node; what the database knows stays readable."""
    call.status = "failed"
    call.termination_reason = NODE_LOST
    call.ended_at = max(last_seen, call.started_at or last_seen)
    call.duration_secs = max(
        0.0, (call.ended_at - (call.started_at or call.ended_at)).total_seconds()
    )
    session.add(
        CallEvent(
            call_id=call.id,
            organization_id=call.organization_id,
            at_ms=None,
            kind=NODE_LOST,
            data={"node_id": call.node_id, "node_last_seen": last_seen.isoformat()},
        )
    )
    _call_ended(session, call, [])


def _call_ended(session: Session, call: Call, transcript: list[dict[str, Any]]) -> None:
    data = _call_summary(call) | {
        "termination_reason": call.termination_reason,
        "call_duration_secs": call.duration_secs,
        "end_time_unix_secs": int(call.ended_at.timestamp()) if call.ended_at else None,
        "transcript": transcript,
    }
    traceparent = (call.metrics or {}).get("traceparent")
    if traceparent:  # the call's trace (W3C), for the receiver's and the worker's spans
        data["traceparent"] = traceparent
    enqueue_event(session, call.organization_id, "call_ended", data)


def save_finished_call(
    session: Session,
    organization_id: str,
    call_id: str,
    *,
    agent_id: str,
    status: str,
    termination_reason: str,
    started_at: datetime,
    ended_at: datetime | None,
    metrics: Mapping[str, Any],
    turns: Sequence[Mapping[str, Any]],
    events: Sequence[Mapping[str, Any]],
    recording: Mapping[str, Any] | None = None,
) -> Call:
    """Store a finished call's outcome, turns and events in the session's one transaction.

    Plain data: each turn has `role`, `message`, `started_ms`, `interrupted`, `source` and
    `metrics`; each event `at_ms`, `kind` and `data` (the engine's record, as `app.calls.store`
    hands it over). `recording`, if the call was recorded: its `path` (under the recordings
    folder) and whether it holds the caller's (`has_user_audio`) and the agent's audio
    (`has_response_audio`).

    Saving the same call again replaces its turns and engine events instead of adding to them,
    so a retried save cannot duplicate a transcript. Carrier status events (no ``at_ms``) stay.
    A call row that was never opened is created, so a call is never lost for want of one.
    """
    call = _find_call(session, organization_id, call_id)
    if call is None:
        call = Call(
            id=call_id,
            organization_id=organization_id,
            agent_id=agent_id,
            direction="inbound",
            channel="unknown",
        )
        session.add(call)
    already_ended = call.status in ("done", "failed")
    call.status = status
    call.started_at = call.started_at or started_at
    call.ended_at = ended_at or utc_now()
    call.duration_secs = max(0.0, (call.ended_at - started_at).total_seconds())
    call.termination_reason = termination_reason
    call.metrics = dict(metrics)
    if recording is not None:
        call.recording_path = str(recording["path"])
        call.has_user_audio = bool(recording.get("has_user_audio"))
        call.has_response_audio = bool(recording.get("has_response_audio"))
    session.flush()

    session.execute(
        delete(Turn).where(Turn.organization_id == organization_id, Turn.call_id == call.id)
    )
    session.execute(
        delete(CallEvent).where(
            CallEvent.organization_id == organization_id,
            CallEvent.call_id == call.id,
            CallEvent.at_ms.is_not(None),
        )
    )
    session.add_all(
        Turn(
            call_id=call.id,
            organization_id=organization_id,
            position=position,
            role=turn["role"],
            message=turn["message"],
            time_in_call_secs=turn["started_ms"] / 1000,
            interrupted=turn["interrupted"],
            source=turn["source"],
            metrics=dict(turn["metrics"]),
            tool_calls=list(turn.get("tool_calls") or []) or None,
            tool_results=list(turn.get("tool_results") or []) or None,
        )
        for position, turn in enumerate(turns)
    )
    session.add_all(
        CallEvent(
            call_id=call.id,
            organization_id=organization_id,
            at_ms=event["at_ms"],
            kind=event["kind"],
            data=dict(event["data"]),
        )
        for event in events
    )
    if not already_ended:  # a repeated save is not a second end
        transcript = [
            {
                "role": turn["role"],
                "message": turn["message"],
                "time_in_call_secs": turn["started_ms"] / 1000,
                "interrupted": turn["interrupted"],
            }
            for turn in turns
        ]
        _call_ended(session, call, transcript)
        count_tool_calls(
            session,
            organization_id,
            (
                (str(result["tool_id"]), float(result.get("tool_latency_secs") or 0.0))
                for turn in turns
                for result in turn.get("tool_results") or []
                if result.get("tool_id") and result.get("tool_has_been_called")
            ),
        )
    queue_analysis(session, call)
    session.flush()
    return call


def record_status_callback(
    session: Session,
    call_sid: str,
    status: str,
    payload: Mapping[str, Any],
    *,
    call_id: str | None = None,
) -> Call | None:
    """Store a Twilio status callback against the call with that CallSid; None if unknown.

    Found by CallSid alone because the callback is authenticated by Twilio's signature, not an
    API key; an outbound call's callback also names its conversation (`call_id`), since the
    first one can arrive before the CallSid Twilio returned is stored. A call that ends before
    any media (busy, unanswered, cancelled) is closed here, since no engine session will ever
    record it.
    """
    call = find_call_for_webhook(session, call_sid, call_id)
    if call is None:
        return None
    call.provider_status = status
    session.add(
        CallEvent(
            call_id=call.id,
            organization_id=call.organization_id,
            at_ms=None,
            kind=TWILIO_STATUS_EVENT,
            data={"status": status, "payload": dict(payload)},
        )
    )
    if status in TERMINAL_TWILIO_STATUSES and call.status == "initiated":
        call.status = "done" if status == "completed" else "failed"
        call.termination_reason = f"twilio call status: {status}"
        call.ended_at = utc_now()
        call.duration_secs = float(payload.get("CallDuration") or 0)
        _call_ended(session, call, [])
    session.flush()
    return call


def find_call_for_webhook(session: Session, call_sid: str, call_id: str | None) -> Call | None:
    """The call a signed Twilio webhook is about: by conversation id if it names one, else by
    CallSid. A conversation whose stored CallSid differs from the webhook's is not it."""
    if call_id:
        call = session.scalar(select(Call).where(Call.id == call_id))
        if call is None or (
            call.provider_call_sid and call_sid and call.provider_call_sid != call_sid
        ):
            return None
        if call_sid and not call.provider_call_sid:
            call.provider_call_sid = call_sid
        return call
    if not call_sid:
        return None
    return session.scalar(select(Call).where(Call.provider_call_sid == call_sid))


def set_provider_call_sid(
    session: Session, organization_id: str, call_id: str, call_sid: str
) -> None:
    call = _find_call(session, organization_id, call_id)
    if call is not None and not call.provider_call_sid:
        call.provider_call_sid = call_sid
        session.flush()


def fail_unstarted_call(session: Session, organization_id: str, call_id: str, reason: str) -> None:
    """Close a call that never started (Twilio refused to place it) as failed, with the reason."""
    call = _find_call(session, organization_id, call_id)
    if call is None or call.status != "initiated":
        return
    call.status = "failed"
    call.termination_reason = reason
    call.ended_at = utc_now()
    call.duration_secs = 0.0
    _call_ended(session, call, [])
    session.add(
        CallEvent(
            call_id=call.id,
            organization_id=organization_id,
            at_ms=None,
            kind="call_refused",
            data={"error": reason},
        )
    )
    session.flush()


def record_answered_by(
    session: Session, call_sid: str, call_id: str | None, payload: Mapping[str, Any]
) -> Call | None:
    """Store Twilio's answering-machine verdict (`AnsweredBy`) for a call; None if unknown."""
    call = find_call_for_webhook(session, call_sid, call_id)
    if call is None:
        return None
    call.answered_by = str(payload.get("AnsweredBy") or "unknown")
    session.add(
        CallEvent(
            call_id=call.id,
            organization_id=call.organization_id,
            at_ms=None,
            kind=ANSWERING_MACHINE_EVENT,
            data={"answered_by": call.answered_by, "payload": dict(payload)},
        )
    )
    session.flush()
    return call


def get_call(session: Session, organization_id: str, call_id: str) -> Call | None:
    """The organization's call with its turns and events loaded, or None."""
    return session.scalar(
        select(Call)
        .where(Call.organization_id == organization_id, Call.id == call_id)
        .options(selectinload(Call.turns), selectinload(Call.events))
    )
