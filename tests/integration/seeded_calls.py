"""Calls stored the way the service stores them, with what the list filters and analytics read
chosen by the test: a call is opened (`create_call`), saved finished with its turns and metrics
(`save_finished_call`, as the recorder does), its analysis written as the worker writes it (an
UPDATE of the queued row), and a campaign dial recorded as an attempt on the conversation."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from app.config.agent import AgentConfig
from app.db.agents import create_agent
from app.db.calls import create_call, mark_in_progress, record_status_callback, save_finished_call
from app.db.campaigns import create_campaign
from app.db.models import Call, CallAnalysis, CallAttempt, CampaignLead, new_id
from app.db.phone_numbers import create_phone_number


@dataclass(frozen=True, slots=True)
class Said:
    """One turn: who spoke, what, whether the caller cut it short, its voice-to-voice latency."""

    role: str
    message: str
    interrupted: bool = False
    voice_to_voice_ms: float | None = None


@dataclass(frozen=True, slots=True)
class Analysed:
    summary: str = ""
    sentiment: str | None = None
    outcome: str | None = None
    call_successful: str = "unknown"
    status: str = "done"


def agent(session: Session, organization_id: str, name: str) -> str:
    return create_agent(session, organization_id, AgentConfig(name=name)).id


def finished_call(
    session: Session,
    organization_id: str,
    agent_id: str,
    *,
    started_at: datetime,
    duration_secs: float = 60.0,
    channel: str = "twilio",
    direction: str = "inbound",
    from_number: str = "+15550000001",
    to_number: str = "+15559990000",
    status: str = "done",
    termination_reason: str = "caller hung up",
    turns: Sequence[Said] = (),
    provider_errors: int = 0,
    analysis: Analysed | None = None,
    recording: dict[str, Any] | None = None,
    turn_metrics: Sequence[dict[str, Any]] = (),
    events: Sequence[dict[str, Any]] = (),
) -> Call:
    """A call that ran and ended, saved as the recorder saves one. `recording` as the recorder
    hands it over (`path` under the recordings folder, which audio it holds); `turn_metrics`
    replace the turns' metrics one by one (the engine's latency keys)."""
    call = create_call(
        session,
        organization_id,
        agent_id=agent_id,
        direction="outbound" if direction == "outbound" else "inbound",
        channel=channel,
        from_number=from_number,
        to_number=to_number,
    )
    saved = save_finished_call(
        session,
        organization_id,
        call.id,
        agent_id=agent_id,
        status=status,
        termination_reason=termination_reason,
        started_at=started_at,
        ended_at=started_at + timedelta(seconds=duration_secs),
        metrics={"counters": {"provider_errors": provider_errors, "barge_ins": 0}},
        turns=[
            {
                "role": turn.role,
                "message": turn.message,
                "started_ms": 2000 * position,
                "interrupted": turn.interrupted,
                "source": "voice",
                "metrics": dict(turn_metrics[position])
                if position < len(turn_metrics)
                else _latency(turn),
            }
            for position, turn in enumerate(turns)
        ],
        events=[dict(event) for event in events],
        recording=recording,
    )
    if analysis is not None:
        analyse(session, saved.id, analysis)
    return saved


def _latency(turn: Said) -> dict[str, Any]:
    if turn.voice_to_voice_ms is None:
        return {}
    return {"voice_to_voice_ms": turn.voice_to_voice_ms, "llm_provider": "groq"}


def analyse(session: Session, call_id: str, analysis: Analysed) -> None:
    """Write the call's analysis as the worker's `store_result` does."""
    session.execute(
        update(CallAnalysis)
        .where(CallAnalysis.call_id == call_id)
        .values(
            status=analysis.status,
            summary=analysis.summary,
            sentiment=analysis.sentiment,
            outcome=analysis.outcome,
            call_successful=analysis.call_successful,
        )
    )


def unanswered_call(
    session: Session,
    organization_id: str,
    agent_id: str,
    *,
    placed_at: datetime,
    carrier_status: str = "busy",
    to_number: str = "+15550003333",
) -> Call:
    """An outbound call nobody answered: recorded when placed, closed by Twilio's callback."""
    call_sid = new_id("CA")
    call = create_call(
        session,
        organization_id,
        agent_id=agent_id,
        direction="outbound",
        channel="twilio",
        from_number="+15559990000",
        to_number=to_number,
        provider_call_sid=call_sid,
    )
    call.created_at = placed_at
    session.flush()
    record_status_callback(session, call_sid, carrier_status, {"CallDuration": "0"})
    return call


def live_call(
    session: Session, organization_id: str, agent_id: str, *, started_at: datetime
) -> Call:
    """A call in progress."""
    call = create_call(
        session,
        organization_id,
        agent_id=agent_id,
        direction="inbound",
        channel="twilio",
        from_number="+15550004444",
        to_number="+15559990000",
    )
    call.created_at = started_at
    mark_in_progress(session, organization_id, call.id, started_at=started_at)
    return call


def campaign(session: Session, organization_id: str, agent_id: str, number: str) -> str:
    """A running campaign of `agent_id`, calling from `number`."""
    caller = create_phone_number(
        session, organization_id, phone_number=number, label="sales line", provider="twilio"
    )
    return create_campaign(
        session,
        organization_id,
        name="Spring demos",
        agent_id=agent_id,
        phone_number_id=caller.id,
        state="running",
        settings={},
    ).id


def lead(session: Session, organization_id: str, campaign_id: str, number: str) -> str:
    row = CampaignLead(
        id=new_id("lead"),
        campaign_id=campaign_id,
        organization_id=organization_id,
        phone_number=number,
        status="pending",
    )
    session.add(row)
    session.flush()
    return row.id


def dial(
    session: Session,
    organization_id: str,
    campaign_id: str,
    lead_id: str,
    *,
    number: int,
    outcome: str | None,
    dialed_at: datetime | None,
    conversation_id: str | None = None,
) -> None:
    """One attempt on the lead; `conversation_id` the call it made, if it made one."""
    session.add(
        CallAttempt(
            id=new_id("att"),
            campaign_id=campaign_id,
            lead_id=lead_id,
            organization_id=organization_id,
            number=number,
            status="ended",
            conversation_id=conversation_id or new_id("conv"),
            outcome=outcome,
            dialed_at=dialed_at,
            ended_at=dialed_at,
        )
    )
    session.flush()
