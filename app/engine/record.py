"""What a call leaves behind: turns, events and metrics, handed to the recorder when it ends."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal, Protocol

TurnRole = Literal["user", "agent"]
CallStatus = Literal["done", "failed"]


@dataclass(slots=True)
class CallEvent:
    at_ms: int  # since the call's media started
    kind: str
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class TurnRecord:
    role: TurnRole
    message: str
    started_ms: int  # since the call's media started
    interrupted: bool = False
    source: Literal["voice", "dtmf", "text", "reprompt", "greeting", "fallback", "tool_filler"] = (
        "voice"
    )
    # Latencies in milliseconds; None where the stage did not happen in this turn.
    metrics: dict[str, float | str | None] = field(default_factory=dict)
    # The tools the agent called in this turn and what they returned, in ElevenLabs' transcript
    # shapes (`tool_calls`, `tool_results`); a result may arrive after a barge-in.
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    tool_results: list[dict[str, Any]] = field(default_factory=list)


@dataclass(slots=True)
class CallRecord:
    call_id: str
    organization_id: str
    agent_id: str
    started_at: datetime
    ended_at: datetime | None = None
    status: CallStatus = "done"
    termination_reason: str = ""
    turns: list[TurnRecord] = field(default_factory=list)
    events: list[CallEvent] = field(default_factory=list)
    # Call-level figures: counters (barge-ins, malformed frames...) and latency summaries.
    metrics: dict[str, Any] = field(default_factory=dict)
    # Where its recording is and which legs it holds (from the audio tap); None if unrecorded.
    recording: dict[str, Any] | None = None

    @classmethod
    def opened(cls, call_id: str, organization_id: str, agent_id: str) -> CallRecord:
        """The record of a call whose media starts now."""
        return cls(call_id, organization_id, agent_id, started_at=datetime.now(UTC))


class CallRecorder(Protocol):
    """Persists a finished call in one transaction."""

    async def save(self, record: CallRecord) -> None: ...
