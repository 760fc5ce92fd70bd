"""The running record of a call: turns as the caller experienced them, events and counters."""

from __future__ import annotations

import logging
import statistics
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from app.engine.playout import Playout, PlayoutStats
from app.engine.record import CallEvent, CallRecord, TurnRecord
from app.engine.response import AgentResponse, ResponseTimings

log = logging.getLogger(__name__)

LATENCY_KEYS = (
    "end_of_speech_to_endpoint_ms",
    "stt_final_ms",
    "llm_first_token_ms",
    "tts_first_byte_ms",
    "voice_to_voice_ms",
)


def response_metrics(
    timings: ResponseTimings, end_of_speech: float | None
) -> dict[str, float | str | None]:
    def span(start: float | None, end: float | None) -> float | None:
        if start is None or end is None:
            return None
        return round((end - start) * 1000, 1)

    return {
        "llm_first_token_ms": span(timings.llm_started, timings.llm_first_token),
        "tts_first_byte_ms": span(timings.tts_first_request, timings.tts_first_byte),
        "voice_to_voice_ms": span(end_of_speech, timings.first_frame_sent),
        "llm_provider": timings.llm_provider,
        "tts_provider": timings.tts_provider,
    }


@dataclass(frozen=True, slots=True)
class TurnStages:
    """One exchange's instants on the session's clock, for whoever traces calls: the caller's
    end of speech, the final transcript, the turn taken (endpoint), the response's own timings,
    and `ended` (its audio played out, or cut off)."""

    source: str
    interrupted: bool
    end_of_speech: float | None
    stt_final: float | None
    endpoint: float | None
    timings: ResponseTimings
    ended: float


class TranscriptLog:
    def __init__(self, *, clock: Callable[[], float] = time.monotonic, started: float) -> None:
        self._clock = clock
        self._started = started
        self.turns: list[TurnRecord] = []
        self.events: list[CallEvent] = []
        self.counters: Counter[str] = Counter()
        # Told each moment as it is logged (a live view of the call); must not block.
        self.listeners: list[Callable[[dict[str, Any]], None]] = []
        # Told each agent turn's stage instants when it is logged (tracing); must not block.
        self.stage_watchers: list[Callable[[TurnStages], None]] = []
        # Set once a call has been handed to another agent: named on each agent turn from then.
        self.agent_id: str | None = None

    def _tell(self, moment: dict[str, Any]) -> None:
        for listener in self.listeners:
            try:
                listener(moment)
            except Exception:  # a watcher's failure is not the call's
                log.exception("a live listener failed")

    def handed_to(self, from_agent_id: str, to_agent_id: str) -> None:
        """Another agent takes the call: each agent turn says which agent spoke it (ElevenLabs'
        `agent_metadata`), the turns so far marked as the first agent's."""
        for turn in self.turns:
            if turn.role == "agent":
                turn.metrics.setdefault("agent_id", from_agent_id)
        self.agent_id = to_agent_id

    def media_ms(self, at: float | None = None) -> int:
        return int(((self._clock() if at is None else at) - self._started) * 1000)

    def event(self, kind: str, **data: Any) -> None:
        event = CallEvent(self.media_ms(), kind, data)
        self.events.append(event)
        if self.listeners:
            self._tell({"type": "event", "kind": kind, "at_ms": event.at_ms, "data": data})

    def count(self, name: str, n: int = 1) -> None:
        self.counters[name] += n

    def user_turn(
        self,
        text: str,
        started_ms: int,
        metrics: dict[str, float | str | None],
        source: str = "voice",
    ) -> None:
        self.turns.append(
            TurnRecord("user", text, started_ms, source=source, metrics=metrics)  # type: ignore[arg-type]
        )
        if self.listeners:
            self._tell(_turn_moment(self.turns[-1]))

    def agent_turn(
        self,
        response: AgentResponse,
        text: str,
        source: str,
        end_of_speech: float | None,
        *,
        interrupted: bool = False,
    ) -> None:
        timings = response.result.timings
        started = timings.first_frame_sent or timings.llm_started or self._clock()
        metrics = response_metrics(timings, end_of_speech)
        if self.agent_id is not None:
            metrics["agent_id"] = self.agent_id
        if timings.first_frame_sent is not None:
            # Recorded once its audio has played (or when it was cut off).
            metrics["speech_ms"] = round((self._clock() - timings.first_frame_sent) * 1000, 1)
        self.turns.append(
            TurnRecord(
                "agent",
                text,
                self.media_ms(started),
                interrupted=interrupted,
                source=source,  # type: ignore[arg-type]
                metrics=metrics,
            )
        )
        # The user turn that this answers carries the full chain for that exchange.
        answered = None
        if end_of_speech is not None and self.turns[-2:-1] and self.turns[-2].role == "user":
            answered = self.turns[-2].metrics
            answered.update(response_metrics(timings, end_of_speech))
        if self.listeners:
            self._tell(_turn_moment(self.turns[-1]))
        if self.stage_watchers:
            self._tell_stages(
                TurnStages(
                    source,
                    interrupted,
                    end_of_speech,
                    _after(end_of_speech, answered, "stt_final_ms"),
                    _after(end_of_speech, answered, "end_of_speech_to_endpoint_ms"),
                    timings,
                    self._clock(),
                )
            )

    def _tell_stages(self, stages: TurnStages) -> None:
        for watcher in self.stage_watchers:
            try:
                watcher(stages)
            except Exception:  # tracing's failure is not the call's
                log.exception("a turn stage watcher failed")

    def interrupted_agent_turn(
        self, response: AgentResponse, playout: Playout, source: str, end_of_speech: float | None
    ) -> str:
        heard = playout.heard_text(response.result.marks)
        self.agent_turn(response, heard, source, end_of_speech, interrupted=True)
        return heard

    def drop_last_user_turn(self) -> None:
        for index in range(len(self.turns) - 1, -1, -1):
            if self.turns[index].role == "user":
                del self.turns[index]
                if self.listeners:
                    self._tell({"type": "user_turn_withdrawn"})
                return

    def finish(
        self, record: CallRecord, reason: str, failed: bool, playout: PlayoutStats
    ) -> CallRecord:
        """`record` completed with how the call ended and everything logged."""
        self.event("call_ended", reason=reason)
        record.ended_at = datetime.now(UTC)
        record.status = "failed" if failed else "done"
        record.termination_reason = reason
        record.turns = self.turns
        record.events = self.events
        record.metrics = self.summary(playout)
        return record

    def summary(self, playout: PlayoutStats) -> dict[str, Any]:
        figures: dict[str, Any] = {"counters": dict(self.counters)}
        for key in LATENCY_KEYS:
            values = [
                v
                for t in self.turns
                if t.role == "user" and isinstance(v := t.metrics.get(key), int | float)
            ]
            if values:
                figures[key] = {
                    "count": len(values),
                    "p50": round(statistics.median(values), 1),
                    "max": round(max(values), 1),
                }
        figures["playout"] = {
            "frames_sent": playout.frames_sent,
            "marks_sent": playout.marks_sent,
            "clears_sent": playout.clears_sent,
        }
        return figures


def _after(start: float | None, metrics: dict[str, Any] | None, key: str) -> float | None:
    """The instant `metrics[key]` milliseconds after `start`, if both are known."""
    value = metrics.get(key) if metrics is not None else None
    if start is None or not isinstance(value, int | float):
        return None
    return start + value / 1000


def _turn_moment(turn: TurnRecord) -> dict[str, Any]:
    return {
        "type": "turn",
        "role": turn.role,
        "message": turn.message,
        "interrupted": turn.interrupted,
        "source": turn.source,
        "at_ms": turn.started_ms,
        "metrics": dict(turn.metrics),
    }
