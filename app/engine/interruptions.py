"""Caller speech over the agent, handled like a good receptionist: stop at once, then decide.

The agent yields the moment the caller's voice starts (the line's buffer is cleared and the
unheard rest of the reply kept). It then listens: a real interruption drops the reply and gives
the caller the turn; a backchannel or a cough resumes the reply where the caller stopped hearing
it and is recorded as an event, not a turn; a caller who was not finished gets the reply
withdrawn and their whole utterance answered once. The policy is `barge_in`; this is its use.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from app.config.agent import AgentConfig
from app.engine.answering import Responder, ResponseRequest
from app.engine.backchannels import is_backchannel, vocabulary, words
from app.engine.barge_in import (
    Burst,
    Decision,
    continues_turn,
    decide,
    interrupts,
    may_yield,
    unheard_answer_verdict,
)
from app.engine.conversation import Conversation
from app.engine.playout import Playout
from app.engine.response import AgentResponse
from app.engine.transcript import TranscriptLog
from app.engine.transport import AudioEncoder, ConversationEvents
from app.engine.turns import UserTurn


@dataclass(slots=True)
class _Yielded:
    response: AgentResponse
    request: ResponseRequest
    at: float  # when the agent stopped
    burst_started: float  # when the caller's voice began
    longest_ms: int = 0  # longest run of caller speech since
    words_due_since: float | None = None  # the burst ended, its words not yet recognized


@dataclass(frozen=True, slots=True)
class _Probe:
    """A burst the reply resumed over, its words still to come."""

    turn: UserTurn
    speech_ms: int
    continuing: bool  # it began right after the caller's own last words


class Interruptions:
    def __init__(
        self,
        *,
        config: AgentConfig,
        playout: Playout,
        responder: Responder,
        conversation: Conversation,
        encoder: AudioEncoder,
        log: TranscriptLog,
        events: ConversationEvents,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._config = config
        self._playout = playout
        self._responder = responder
        self._conversation = conversation
        self._encoder = encoder
        self._log = log
        self._events = events
        self._clock = clock
        self._vocabulary = vocabulary(config)
        self._yielded: _Yielded | None = None
        self._probe: _Probe | None = None

    def adopt(self, config: AgentConfig) -> None:
        """The call goes on with other settings (another agent, another language)."""
        self._config = config
        self._vocabulary = vocabulary(config)

    @property
    def holding(self) -> bool:
        return self._yielded is not None

    def forget(self) -> None:
        """Nobody on the line to yield to any more (a voicemail box): drop what was pending."""
        self._yielded = None
        self._probe = None

    # --- each frame --------------------------------------------------------------------------

    async def on_speech(self, speech_ms: int, turn: UserTurn) -> None:
        """A frame of caller speech while nothing is held: stop the agent if it is talking."""
        response, request = self._responder.current, self._responder.current_request
        if response is None or request is None:
            return
        if not may_yield(self._config, source=request.source, speech_ms=speech_ms):
            return
        heard_anything = any(self._playout.is_confirmed(m) for m in response.result.marks)
        if self._playout.audible or heard_anything:
            await self._yield(response, request, speech_ms)
        elif unheard_answer_verdict(request.source) is Decision.TAKE_BACK:
            await self._take_back(response, turn, recovery_ms=None)

    async def on_held_frame(
        self, *, speech_ms: int, in_speech: bool, turn: UserTurn, last_speech: float | None
    ) -> None:
        """A frame while the agent holds its reply: decide once the burst says enough."""
        yielded = self._yielded
        if yielded is None:
            return
        if self._responder.current is not yielded.response:  # it ended or was replaced meanwhile
            self._yielded = None
            self._playout.discard()
            return
        yielded.longest_ms = max(yielded.longest_ms, speech_ms)
        end_of_speech = yielded.request.end_of_speech
        caller_pause_ms = (
            (yielded.burst_started - end_of_speech) * 1000 if end_of_speech is not None else None
        )
        decision = decide(
            self._config,
            Burst(yielded.longest_ms, in_speech, turn.text or turn.interim),
            source=yielded.request.source,
            caller_pause_ms=caller_pause_ms,
            vocabulary=self._vocabulary,
        )
        now = self._clock()
        if decision is Decision.RESUME and self._words_pending(yielded, turn, now):
            return
        if decision is Decision.WAIT:
            yielded.words_due_since = None
            return
        self._yielded = None
        if decision is Decision.RESUME:
            self._playout.resume()
            continuing = continues_turn(
                self._config, source=yielded.request.source, caller_pause_ms=caller_pause_ms
            )
            self._probe = _Probe(turn, yielded.longest_ms, continuing)
            self._log.count("resumes")
            self._log.event(
                "agent_resumed",
                held_ms=_ms(now - yielded.at),
                pause_to_resume_ms=_ms(now - last_speech) if last_speech is not None else None,
                speech_ms=yielded.longest_ms,
                words_wait_ms=(
                    _ms(now - yielded.words_due_since)
                    if yielded.words_due_since is not None
                    else 0.0
                ),
            )
        elif decision is Decision.TAKE_BACK:
            await self._take_back(
                yielded.response, turn, recovery_ms=_ms(yielded.at - yielded.burst_started)
            )
        else:
            await self._interrupt(yielded, decided_ms=_ms(now - yielded.at))

    def _words_pending(self, yielded: _Yielded, turn: UserTurn, now: float) -> bool:
        """Whether a burst that would resume the reply still waits for its words (bounded)."""
        if not turn.awaiting_final or turn.text or turn.interim:
            return False
        if yielded.words_due_since is None:
            yielded.words_due_since = now
        waited_ms = (now - yielded.words_due_since) * 1000
        return waited_ms < self._config.velox.resume_words_wait_ms

    # --- transcripts of a resumed-over burst ------------------------------------------------

    async def on_final(self, turn: UserTurn) -> bool:
        """A burst the reply resumed over has its words: True if it was no turn at all."""
        if not self.is_probe(turn) or turn.awaiting_final:
            return False
        if self.absorbs(turn):
            return True
        self._probe = None
        self._log.event("late_interruption", text=turn.text)
        response, request = self._responder.current, self._responder.current_request
        if response is not None and request is not None and await self._playout.hold():
            now = self._clock()
            await self._interrupt(_Yielded(response, request, now, now), decided_ms=0.0)
        return False

    def absorbs(self, turn: UserTurn) -> bool:
        """Whether `turn`, a burst the reply resumed over, was no turn (logged as what it was)."""
        probe = self._probe
        if probe is None or turn is not probe.turn:
            return False
        text = (turn.text or turn.interim).strip()
        if interrupts(
            self._config, probe.speech_ms, text, self._vocabulary, continuing=probe.continuing
        ):
            return False
        self._probe = None
        if not words(text):
            kind = "noise"
        elif is_backchannel(text, self._vocabulary.backchannels):
            kind = "backchannel"
        else:
            kind = "murmur"  # short, and no interrupting word: not a sentence said to the agent
        self._log.count(f"{kind}s")
        self._log.event(kind, text=text, speech_ms=probe.speech_ms)
        return True

    def is_probe(self, turn: UserTurn) -> bool:
        return self._probe is not None and turn is self._probe.turn

    async def give_turn(self) -> None:
        """The caller took the turn some other way (typed text): a real interruption, at once."""
        response, request = self._responder.current, self._responder.current_request
        if response is None or request is None:
            return
        yielded = self._yielded or _Yielded(response, request, self._clock(), self._clock())
        self._yielded = None
        if self._playout.audible:
            await self._playout.hold()
        if self._playout.held:
            self._events.interruption()
            await self._interrupt(yielded, decided_ms=0.0)

    # --- the three outcomes -----------------------------------------------------------------

    async def _yield(
        self, response: AgentResponse, request: ResponseRequest, speech_ms: int
    ) -> None:
        detected = self._clock()
        await self._playout.hold()
        self._events.interruption()
        self._yielded = _Yielded(
            response, request, at=detected, burst_started=detected - speech_ms / 1000
        )
        self._log.count("yields")
        self._log.event(
            "agent_yielded",
            turn=response.turn_id,
            speech_ms=speech_ms,
            clear_ms=_ms(self._clock() - detected),
        )

    async def _interrupt(self, yielded: _Yielded, *, decided_ms: float) -> None:
        await self._playout.clear()
        self._encoder.reset()
        self._responder.record_interrupted()
        await self._responder.cancel()
        self._log.count("barge_ins")
        self._log.event(
            "barge_in",
            turn=yielded.response.turn_id,
            speech_ms=yielded.longest_ms,
            decided_ms=decided_ms,
        )

    async def _take_back(
        self, response: AgentResponse, turn: UserTurn, *, recovery_ms: float | None
    ) -> None:
        """The caller was not finished: withdraw the reply and carry their words into this turn."""
        generated = response.generated_text.strip()
        await self._responder.cancel()
        self._playout.discard()
        self._encoder.reset()
        if generated:
            self._events.agent_response_correction(generated, "")
        carried = self._conversation.drop_last_user()
        self._log.drop_last_user_turn()
        turn.prepend(carried)
        self._log.count("premature_ends_of_turn")
        self._log.event("premature_end_of_turn", carried_text=carried, recovery_ms=recovery_ms)


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 1)
