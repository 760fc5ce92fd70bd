"""One call: listens, decides when the caller is done, answers, yields to barge-in, is saved.

The transport feeds it PCM16 16 kHz frames, marks and DTMF; the session drives the playout
and the transport's controls. Tasks: the inbound loop (VAD, turn rules, timers), the
transcript loop (STT), the playout loop, and at most one agent response at a time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Coroutine
from typing import Any

from app.config.agent import AgentConfig
from app.engine.answering import Responder
from app.engine.client_tools import ClientTools
from app.engine.conversation import (
    CallContext,
    Conversation,
    render_call_templates,
)
from app.engine.echo import EchoGate
from app.engine.ending import VOICEMAIL_LEFT, close_provider, save_finished_call, voicemail_text
from app.engine.handover import AgentDirectory
from app.engine.interruptions import Interruptions
from app.engine.keypad import KeypadEntry
from app.engine.knowledge import KnowledgeSource, TurnKnowledge
from app.engine.listening import CallerLine
from app.engine.options import EngineOptions
from app.engine.phrases import PhraseCache
from app.engine.playout import Playout
from app.engine.record import CallRecord, CallRecorder
from app.engine.response import TextOnlyVoice
from app.engine.speech import SpeechChange, SpeechSegmenter
from app.engine.switching import Switching
from app.engine.system_tools import SystemTools
from app.engine.text import clean_text
from app.engine.timers import CallTimers, TimerAction, TimerSettings
from app.engine.transcript import TranscriptLog
from app.engine.transport import CallAudioTap, CallTransport, ConversationEvents
from app.engine.turns import EndOfTurnWindows, TurnState, UserTurn
from app.engine.webhook_tools import CallTools, WebhookTools
from app.providers.base import SttStream, Transcript
from app.providers.registry import ProviderSet

log = logging.getLogger(__name__)

WATCHDOG_INTERVAL_S = 0.1


class CallSession(Switching):
    def __init__(
        self,
        *,
        context: CallContext,
        config: AgentConfig,
        providers: ProviderSet,
        transport: CallTransport,
        recorder: CallRecorder,
        options: EngineOptions,
        phrases: PhraseCache | None = None,
        events: ConversationEvents | None = None,
        text_only: bool = False,
        can_transfer: bool = True,
        audio_tap: CallAudioTap | None = None,
        disclosure: str = "",
        knowledge: KnowledgeSource | None = None,
        agents: AgentDirectory | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.context = context
        # The agent speaking now (another after `transfer_to_agent`), and who may take over.
        self.agent_id = context.agent_id
        self._agents = agents
        self._can_transfer = can_transfer
        self._on_tool_outcome: Callable[[str, str], None] | None = None
        self._transcripts: asyncio.Task[None] | None = None
        # The call's recording, if it is recorded, and the line said first because it is.
        self._tap = audio_tap
        self._disclosure = disclosure
        self.config = config
        self._providers = providers
        self._transport = transport
        self._recorder = recorder
        self._options = options
        self._clock = clock
        self._events = events or ConversationEvents()
        self._windows = EndOfTurnWindows.for_agent(config)
        self._inbound: asyncio.Queue[bytes] = asyncio.Queue(options.inbound_queue_frames)
        self._segmenter = SpeechSegmenter()
        self._stt: SttStream | None = None
        self._encoder = transport.new_encoder()
        self._playout = Playout(
            transport,
            options.playout_lead_ms,
            clock,
            frame_level=self._encoder.level_dbfs,
            on_frame_sent=self._on_agent_frame,
            on_clear=audio_tap.cleared if audio_tap is not None else None,
            frames_per_send=transport.frames_per_message,
        )
        self._user_turn = UserTurn()
        self._last_speech_wall: float | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._keypad = KeypadEntry(options.dtmf_collect_timeout_s)
        self._closing = False
        self._closed = asyncio.Event()
        # The client's connection dropped and it may come back (a web or app conversation).
        self._line_down = False
        # The far end holds the call (SIP hold): the silence rules wait.
        self._line_held = False
        self._started_wall = clock()
        self._last_tick = self._started_wall
        self._timers = CallTimers(TimerSettings.for_agent(config), self._started_wall)
        self._ending: str | None = None
        # False once the caller's side is no longer a person to answer (a voicemail box).
        self._listening = True
        self.log = TranscriptLog(clock=clock, started=self._started_wall)
        self._echo = EchoGate(
            config.velox.echo_suppression_db, config.velox.echo_tail_ms, report=self.log.event
        )
        self._line = CallerLine(providers.vad.open_stream(), self._echo, self._segmenter, self.log)
        providers.observe(self.log)
        self._record = CallRecord.opened(context.call_id, context.organization_id, context.agent_id)
        # The prompt and first message render when the call starts (off the event loop).
        self.conversation = Conversation("")
        self._client_tools = ClientTools(config, self._events, self.log)
        voice = TextOnlyVoice() if text_only else None
        self._knowledge_source = knowledge
        self._knowledge = TurnKnowledge(knowledge, self.log) if knowledge is not None else None
        self._responder = Responder(
            config=config,
            providers=providers,
            conversation=self.conversation,
            system_tools=self._system_tools(config),
            client_tools=self._client_tools,
            transport=transport,
            playout=self._playout,
            encoder=self._encoder,
            tts_format=(voice or providers.tts).output_format(transport.output_format),
            log=self.log,
            end_call=self._request_end,
            on_done=lambda: self._timers.busy(self._clock()),
            events=self._events,
            phrases=phrases,
            voice=voice,
            knowledge=self._knowledge,
            hand_over=self.hand_over,
            clock=clock,
        )

        self._interruptions = Interruptions(
            config=config,
            playout=self._playout,
            responder=self._responder,
            conversation=self.conversation,
            encoder=self._encoder,
            log=self.log,
            events=self._events,
            clock=clock,
        )

    def _system_tools(self, config: AgentConfig) -> SystemTools:
        return SystemTools(
            config,
            can_transfer=self._can_transfer,
            transport=self._transport,
            log=self.log,
            end_call=self._request_end,
            voicemail=self._voicemail_reached,
            playout=self._playout,
            encoder=self._encoder,
            agent_id=self.agent_id,
            agents=self._agents,
            tts=self._providers.tts,
            prepare=self.prepare_handover,
        )

    def _on_agent_frame(self, frame: bytes, plays_at: float) -> None:
        self._echo.agent_frame(self._encoder.level_dbfs(frame), plays_at)
        if self._tap is not None:
            rate = self._transport.output_format.sample_rate
            self._tap.agent_frame(self._encoder.decode(frame), rate, plays_at)

    # --- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        """Open the STT stream, start the loops and greet the caller."""
        self.log.event("call_started", channel=self.context.channel)
        prompt, first_message = await render_call_templates(self.config, self.context, self.log)
        if self._knowledge_source is not None:
            prompt += await self._knowledge_source.prompt_section()
        self.conversation.set_system_prompt(prompt)
        for reason in self._providers.unavailable:
            self.log.event("provider_unavailable", reason=reason)
        self._stt = await self._providers.stt.open_stream(
            self.config.conversation_config.agent.language
        )
        # The voice connects while the greeting (a cached phrase) plays.
        self._spawn(self._responder.voice.open(), "voice")
        self._spawn(self._playout.run(), "playout")
        self._spawn(self._inbound_loop(self._stt), "inbound")
        self._spawn(self._watchdog(), "watchdog")
        self._transcripts = self._spawn(self._transcript_loop(self._stt), "transcripts")
        if self._disclosure.strip():
            first_message = f"{self._disclosure.strip()} {first_message}".strip()
        if first_message.strip():
            self._responder.start(first_message, "greeting")

    def offer_tools(
        self, tools: CallTools, on_outcome: Callable[[str, str], None] | None = None
    ) -> None:
        """The webhook tools the calls room loaded for this call (the agent's `tool_ids`);
        `on_outcome(kind, outcome)` is told of each call's outcome (for the counters)."""
        self._on_tool_outcome = on_outcome
        for missing in tools.missing:
            self.log.event("tool_unavailable", reason=missing)
        if not tools.webhooks:
            return
        variables = {
            name: str(value)
            for name, value in self.context.template_variables(
                self.config.velox.dynamic_variables
            ).items()
        }

        def counted(kind: str, outcome: str) -> None:
            self.log.count(f"tool_calls_{outcome}")
            if on_outcome is not None:
                on_outcome(kind, outcome)

        self._responder.offer_webhook_tools(
            WebhookTools(tools, variables, self.log, on_outcome=counted)
        )

    @property
    def closed(self) -> bool:
        return self._closed.is_set()

    def reason_saved(self, reason: str) -> str:
        """How the record says the call ended when `close(reason)` ends it: an end already asked
        for (a supervisor's, the agent's) wins over the transport's `reason`."""
        return self._ending or reason

    def end(self, reason: str) -> None:
        """End the call from outside (a supervisor): hang up now and save it ended `reason`."""
        self.log.event("ended_from_outside", reason=reason)
        self._request_end(reason)

    def wind_up(self, reason: str, message: str) -> bool:
        """End the call from outside after the agent says `message` (the node is shutting
        down); False when it is already ending."""
        if self._closing or self._ending is not None:
            return False
        self.log.event("ended_from_outside", reason=reason)
        self._end_call_after(reason, message)
        return True

    async def line_lost(self) -> None:
        """The client's connection dropped and may come back: stop talking to nobody (what was
        heard stays in the transcript) and keep the silence timers from ending the call."""
        self.log.event("connection_lost")
        self._line_down = True
        await self._interruptions.give_turn()

    def line_held(self, held: bool) -> None:
        """The far end put the call on hold, or took it off: while held the caller is away, not
        silent, so no re-prompt and no hang-up for silence (the maximum duration still counts);
        the timers' tick keeps the silence clock at the last held moment, so off hold it starts
        again from there."""
        self._line_held = held

    def line_restored(self) -> None:
        self.log.event("connection_resumed")
        self._line_down = False
        self._timers.caller_active(self._clock())

    async def wait_closed(self) -> None:
        await self._closed.wait()

    def _spawn(self, coroutine: Coroutine[Any, Any, None], name: str) -> asyncio.Task[None]:
        task_name = f"{name}:{self.context.call_id}"
        task = asyncio.create_task(self._guard(coroutine, name), name=task_name)
        self._tasks.append(task)
        return task

    async def _guard(self, coroutine: Coroutine[Any, Any, None], name: str) -> None:
        """A loop that dies ends the call (saved), instead of leaving a silent line."""
        try:
            await coroutine
        except asyncio.CancelledError:
            raise
        except Exception as error:
            log.exception("call %s: %s loop failed", self.context.call_id, name)
            self.log.event("engine_error", loop=name, error=repr(error))
            self._request_end(f"engine_error:{name}")

    # --- input from the transport ----------------------------------------------------------

    def push_audio(self, frame: bytes) -> None:
        """One 20 ms PCM16 16 kHz caller frame. Never blocks; drops the oldest if behind."""
        if self._closing:
            return
        if self._tap is not None:
            self._tap.caller_frame(frame)
        if not self._listening:
            return
        if self._inbound.full():
            self._inbound.get_nowait()
            self.log.count("inbound_frames_dropped")
        self._inbound.put_nowait(frame)

    def on_mark(self, name: str) -> None:
        if self._playout.on_mark(name) is None:
            self.log.count("unknown_marks")

    def on_dtmf(self, digit: str) -> None:
        digit = clean_text(digit)
        self.log.event("dtmf", digit=digit)
        self._timers.caller_active(self._clock())
        self._answer_keypad(self._keypad.press(digit, self._clock()))

    async def on_user_message(self, text: str) -> None:
        """Typed text from the caller: a whole turn at once, interrupting the agent if needed."""
        text = clean_text(text).strip()
        if self._closing or not text:
            return
        self._timers.caller_active(self._clock())
        await self._interruptions.give_turn()
        self.log.user_turn(text, self.log.media_ms(), {}, source="text")
        self.log.event("user_message", text=text)
        self._responder.start(text, "text")

    def on_contextual_update(self, text: str) -> None:
        """Background the agent should know, without it being a turn to answer."""
        text = clean_text(text)
        if text.strip():
            self.conversation.add_context(text.strip())
            self.log.event("contextual_update", text=text.strip())

    def on_user_activity(self) -> None:
        """The caller is active without speaking (typing, say): no re-prompt, no hang-up."""
        self._timers.caller_active(self._clock())

    def on_client_tool_result(self, tool_call_id: str, result: str, is_error: bool) -> None:
        self._client_tools.resolve(clean_text(tool_call_id), clean_text(result), is_error)

    def count_malformed(self, reason: str) -> None:
        self.log.count("malformed_frames")
        self.log.count(f"malformed_frames.{reason}")

    # --- the inbound loop: VAD, barge-in, end of turn, timers ------------------------------

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

    # --- the transcript loop ---------------------------------------------------------------

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

    # --- ending ----------------------------------------------------------------------------

    async def leave_voicemail(self, message: str) -> bool:
        """An answering machine took the call and its greeting is over: stop what is playing,
        leave `message` (rendered with the call's variables; the line is no longer listened
        to), then hang up. False when the call is already ending."""
        if self._closing or self._ending is not None:
            return False
        self._listening = False
        self._interruptions.forget()
        self._responder.record_interrupted()
        await self._responder.cancel()
        await self._playout.clear()
        self._encoder.reset()
        text = await voicemail_text(message, self.context, self.config, self.log)
        self.log.event("voicemail_started", message=text)
        self._end_call_after(VOICEMAIL_LEFT, text)
        return True

    def _voicemail_reached(self, message: str) -> None:
        """The model found a voicemail box (its `voicemail_detection` tool): leave `message`
        once the tool's turn has let go of the line."""
        self._spawn(self._leave_voicemail(message), "voicemail")

    async def _leave_voicemail(self, message: str) -> None:
        await self.leave_voicemail(message)

    def _end_call_after(self, reason: str, message: str) -> None:
        """Say `message` (if any), then hang up."""
        self._ending = reason
        self.log.event("ending", reason=reason)
        if message:
            self._responder.start(message, "goodbye", then_end=reason)
        else:
            self._request_end(reason)

    def _request_end(self, reason: str) -> None:
        if self._closing:
            return
        if reason == VOICEMAIL_LEFT:  # the message was heard to its end
            self.log.event(VOICEMAIL_LEFT)
        self._ending = self._ending or reason
        self._tasks.append(asyncio.get_running_loop().create_task(self._hang_up(reason)))

    async def _hang_up(self, reason: str) -> None:
        with contextlib.suppress(Exception):
            await self._transport.hang_up()
        await self.close(reason)

    async def close(self, reason: str, *, failed: bool = False) -> None:
        """End the call and save it; safe to call more than once, from anywhere."""
        if self._closing:
            await self._closed.wait()
            return
        self._closing = True
        try:
            self._responder.record_interrupted()
            # Bounded as a whole: work that does not stop when cancelled must not keep the
            # call from being saved (it is left behind, counted and said in the record).
            deadline = asyncio.get_running_loop().time() + self._options.call_shutdown_timeout_s
            async with asyncio.timeout_at(deadline):
                await self._responder.shut()
                await self._responder.close_tools()
                if self._knowledge is not None:
                    await self._knowledge.close()
            current = asyncio.current_task()
            others = [t for t in self._tasks if t is not current]
            for task in others:
                task.cancel()
            if others:
                left = deadline - asyncio.get_running_loop().time()
                _, stuck = await asyncio.wait(others, timeout=max(0.0, left))
                if stuck:
                    raise TimeoutError
        except TimeoutError:
            log.error("call %s: its work did not stop when cancelled", self.context.call_id)
            self.log.event("shutdown_timeout", after_s=self._options.call_shutdown_timeout_s)
            self.log.count("shutdown_timeouts")
        except Exception:
            log.exception("call %s: shutdown did not finish cleanly", self.context.call_id)
        finally:
            timeout_s = self._options.provider_close_timeout_s
            if self._stt is not None:
                await close_provider("stt", self._stt.aclose, timeout_s, self.log)
            await close_provider("tts", self._responder.voice.aclose, timeout_s, self.log)
            recording = await self._close_recording()
            await self._save(self.reason_saved(reason), failed, recording)
            self._closed.set()

    async def _close_recording(self) -> dict[str, Any] | None:
        if self._tap is None:
            return None
        try:
            return await self._tap.close()
        except Exception as error:  # the call is saved without its audio, and says why
            log.exception("call %s: its recording could not be finished", self.context.call_id)
            self.log.event("recording_failed", error=repr(error)[:500])
            return None

    async def _save(self, reason: str, failed: bool, recording: dict[str, Any] | None) -> None:
        record = self.log.finish(self._record, reason, failed, self._playout.stats)
        record.metrics["echo"] = self._echo.summary()
        record.recording = recording
        await save_finished_call(self._recorder, record, self.log.media_ms())


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 1)
