"""The part of a call's session that listens (mixed into `CallSession`, whose state it reads
and changes): the inbound loop (each caller frame through the VAD and echo gate to the
recognizer, barge-in, the end-of-turn rules, the keypad and the silence timers, with a watchdog
that keeps the clock rules running when no frames come) and the transcript loop (the
recognizer's words into the caller's turn).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING

from app.engine.speech import SpeechChange
from app.engine.timers import TimerAction
from app.engine.turns import TurnState, UserTurn
from app.providers.base import StartsFinalsEarly

if TYPE_CHECKING:
    from app.config.agent import AgentConfig
    from app.engine.answering import Responder
    from app.engine.echo import EchoGate
    from app.engine.interruptions import Interruptions
    from app.engine.keypad import KeypadEntry
    from app.engine.knowledge import TurnKnowledge
    from app.engine.listening import CallerLine
    from app.engine.playout import Playout
    from app.engine.speech import SpeechSegmenter
    from app.engine.timers import CallTimers
    from app.engine.transcript import TranscriptLog
    from app.engine.transport import ConversationEvents
    from app.engine.turns import EndOfTurnWindows
    from app.providers.base import SttStream, Transcript
    from app.providers.registry import ProviderSet

WATCHDOG_INTERVAL_S = 0.1
# Quiet this long inside the caller's speech lets a recognizer whose final costs a decode
# (Whisper: 50-100 ms) start it, so the final lands about when the pause (the segmenter's
# `pause_ms`, 160) is confirmed. Shorter wastes more decodes on gaps between words.
EARLY_FINAL_QUIET_MS = 60


class TurnTaking:
    if TYPE_CHECKING:
        config: AgentConfig
        log: TranscriptLog
        _providers: ProviderSet
        _inbound: asyncio.Queue[bytes]
        _stt: SttStream | None
        _clock: Callable[[], float]
        _last_tick: float
        _line: CallerLine
        _echo: EchoGate
        _events: ConversationEvents
        _segmenter: SpeechSegmenter
        _last_speech_wall: float | None
        _user_turn: UserTurn
        _windows: EndOfTurnWindows
        _interruptions: Interruptions
        _responder: Responder
        _playout: Playout
        _keypad: KeypadEntry
        _timers: CallTimers
        _knowledge: TurnKnowledge | None
        _ending: str | None
        _listening: bool
        _line_down: bool
        _line_held: bool

        def _end_call_after(self, reason: str, message: str) -> None: ...

    async def _inbound_loop(self, stt: SttStream) -> None:
        while True:
            frame = await self._inbound.get()
            stt = self._stt or stt  # a handover may have opened another stream
            now = self._last_tick = self._clock()
            heard = await self._line.hear(frame, now)
            probability, frame, change = heard.probability, heard.frame, heard.change
            self._events.vad_score(probability)
            # Only a speech frame moves "last speech", not the pause hangover after it, so
            # end-of-speech latencies are measured from the caller's real last sound.
            if self._segmenter.in_speech and probability >= self._segmenter.config.threshold:
                self._last_speech_wall = now
            await stt.push_audio(frame)
            if change is SpeechChange.STARTED:
                self._on_speech_started()
            elif change is SpeechChange.PAUSED:
                self._user_turn.awaiting_final = True
                self._user_turn.finalize_requested_ms = self._segmenter.now_ms
                await stt.finalize()
            elif (
                self._segmenter.in_speech
                and self._segmenter.silence_ms() == EARLY_FINAL_QUIET_MS
                and isinstance(stt, StartsFinalsEarly)
            ):
                await stt.caller_pausing(self._segmenter.config.pause_ms - EARLY_FINAL_QUIET_MS)
            await self._on_caller_audio()
            self._tick()

    async def _on_caller_audio(self) -> None:
        if self._ending is not None:
            return
        speech_ms = self._segmenter.speech_duration_ms()
        if self._interruptions.holding:
            await self._interruptions.on_held_frame(
                speech_ms=speech_ms,
                in_speech=self._segmenter.in_speech,
                turn=self._user_turn,
                last_speech=self._last_speech_wall,
            )
        elif self._segmenter.in_speech:
            await self._interruptions.on_speech(speech_ms, self._user_turn)
            if self._interruptions.holding:
                self._echo.forget_unplayed(self._clock())

    async def _watchdog(self) -> None:
        """Keeps the clock rules running when the line sends no frames (a stalled socket).

        While frames flow (every 20 ms) each one drives a tick; a timer per frame would cost
        more than the rest of the frame's work on a busy node.
        """
        while True:
            await asyncio.sleep(WATCHDOG_INTERVAL_S)
            if self._clock() - self._last_tick >= WATCHDOG_INTERVAL_S:
                self._tick()

    def _on_speech_started(self) -> None:
        self._timers.caller_active(self._clock())
        if self._user_turn.first_speech_ms is None:
            self._user_turn.first_speech_ms = self.log.media_ms() - (
                self._segmenter.speech_duration_ms()
            )
        self.log.event("user_speech_started")

    def _tick(self) -> None:
        now = self._clock()
        self._last_tick = now
        self._answer_keypad(self._keypad.due(now))
        self._maybe_end_user_turn(now)
        self._check_timers(now)

    def _maybe_end_user_turn(self, now: float) -> None:
        if not self._listening:
            return
        turn = self._user_turn
        state = turn.state(
            in_speech=self._segmenter.in_speech,
            now_ms=self._segmenter.now_ms,
            silence_ms=self._segmenter.silence_ms(),
            windows=self._windows,
        )
        if state is TurnState.LISTENING:
            return
        self._user_turn = UserTurn()
        if self._interruptions.is_probe(turn) and self._interruptions.absorbs(turn):
            return
        if turn.final_overdue:
            self.log.event("stt_final_timeout", used_interim=bool(turn.text))
        if state is TurnState.NOISE:
            if turn.recognizer_lost and self.config.velox.fallback_message:  # words lost
                self._responder.start(self.config.velox.fallback_message, "fallback")
            return
        last_speech = self._last_speech_wall or now
        stt_final = turn.final_received_wall
        metrics: dict[str, float | str | None] = {
            "end_of_speech_to_endpoint_ms": _ms(now - last_speech),
            "stt_final_ms": _ms(stt_final - last_speech) if stt_final is not None else None,
            "stt_provider": self._providers.stt.name,
        }
        if turn.first_speech_ms is not None:
            metrics["speech_ms"] = max(0, self.log.media_ms(last_speech) - turn.first_speech_ms)
        self.log.user_turn(turn.text, turn.first_speech_ms or 0, metrics)
        self.log.event("user_turn_ended", text=turn.text)
        self._events.user_transcript(turn.text)
        self._responder.start(turn.text, "voice", end_of_speech=last_speech)

    def _answer_keypad(self, digits: str | None) -> None:
        if digits:
            text = f"[The caller pressed on the keypad: {' '.join(digits)}]"
            self.log.user_turn(text, self.log.media_ms(), {}, source="dtmf")
            self._responder.start(text, "dtmf")

    def _check_timers(self, now: float) -> None:
        if self._ending is not None:
            return
        if self._segmenter.in_speech or self._line_down or self._line_held:
            self._timers.caller_active(now)
        busy = (
            self._line_down
            or self._line_held
            or self._responder.current_request is not None
            or self._segmenter.in_speech
            or not self._user_turn.is_empty()
            or self._playout.audible
        )
        action = self._timers.due(now, busy=busy)
        if action is TimerAction.MAX_DURATION:
            message = self.config.conversation_config.agent.max_conversation_duration_message
            self._end_call_after(action.value, message or "")
        elif action is TimerAction.SILENCE_TIMEOUT:
            self._end_call_after(action.value, self.config.velox.goodbye_message)
        elif action is TimerAction.REPROMPT:
            self.log.event("silence_reprompt")
            self._responder.start(self.config.velox.reprompt_message, "reprompt")

    async def _transcript_loop(self, stt: SttStream) -> None:
        async for transcript in stt.transcripts():
            await self._on_transcript(transcript)

    async def _on_transcript(self, transcript: Transcript) -> None:
        if not self._listening:
            return
        turn = self._user_turn
        if transcript.recognizer_lost:
            self.log.event("stt_recognizer_lost", interim=turn.interim)
            if not turn.is_empty() or self._segmenter.in_speech:
                turn.lose_recognizer(self.log.media_ms())
            return
        turn.add(transcript, media_ms=self.log.media_ms(), now=self._clock())
        if transcript.is_final:
            self.log.event("user_transcript", text=transcript.text.strip())
            if self._knowledge is not None:
                self._knowledge.prefetch(turn.text)
            if await self._interruptions.on_final(turn) and self._user_turn is turn:
                self._user_turn = UserTurn()  # said over the agent, and not a turn
                return
            # A final with words that comes after its window has passed (a local recognizer's
            # decode can end after the 280 ms of a question) ends the turn now, not at the next
            # frame. Words said over the agent are left to the next frame's interruption rules.
            if (
                turn.text
                and self._user_turn is turn
                and not self._interruptions.holding
                and not self._interruptions.is_probe(turn)
            ):
                self._maybe_end_user_turn(self._clock())


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 1)
