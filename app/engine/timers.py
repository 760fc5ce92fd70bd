"""The clock rules of a call: re-prompt a silent caller, hang up on long silence or duration."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from app.config.agent import AgentConfig


class TimerAction(Enum):
    REPROMPT = "reprompt"
    SILENCE_TIMEOUT = "silence_timeout"
    MAX_DURATION = "max_duration_reached"


@dataclass(frozen=True, slots=True)
class TimerSettings:
    reprompt_after_s: float  # <= 0: never
    hang_up_after_s: float  # <= 0: never
    max_duration_s: float

    @classmethod
    def for_agent(cls, config: AgentConfig) -> TimerSettings:
        conversation = config.conversation_config
        return cls(
            reprompt_after_s=conversation.turn.turn_timeout,
            hang_up_after_s=conversation.turn.silence_end_call_timeout,
            max_duration_s=conversation.conversation.max_duration_seconds,
        )


class CallTimers:
    """Pure decisions from the clock; the session reports activity and asks what is due."""

    def __init__(self, settings: TimerSettings, now: float) -> None:
        self._settings = settings
        self._started = now
        self._idle_since = now  # nobody has been speaking since
        self._caller_heard_at = now  # the caller's last speech or key press
        self._reprompted_at: float | None = None

    def caller_active(self, now: float) -> None:
        self._caller_heard_at = now
        self._reprompted_at = None

    def busy(self, now: float) -> None:
        """Someone is speaking or the agent is working on an answer."""
        self._idle_since = now

    def due(self, now: float, *, busy: bool) -> TimerAction | None:
        settings = self._settings
        if now - self._started >= settings.max_duration_s:
            return TimerAction.MAX_DURATION
        if busy:
            self._idle_since = now
            return None
        # Counted from the caller's last word: the agent's own re-prompts do not reset it.
        if 0 < settings.hang_up_after_s <= now - self._caller_heard_at:
            return TimerAction.SILENCE_TIMEOUT
        last_prompt = max(self._idle_since, self._reprompted_at or 0.0)
        if 0 < settings.reprompt_after_s <= now - last_prompt:
            self._reprompted_at = now
            return TimerAction.REPROMPT
        return None
