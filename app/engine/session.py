"""One call: listens, decides when the caller is done, answers, yields to barge-in, is saved.

The transport feeds it PCM16 16 kHz frames, marks and DTMF; the session drives the playout
and the transport's controls. Tasks: the inbound loop (VAD, turn rules, timers) and the
transcript loop (STT), both in `turn_taking.py`, the playout loop, and at most one agent
response at a time. How it hands over is `switching.py`; how it ends, `ending.py`.
"""

from __future__ import annotations

import asyncio
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
from app.engine.ending import Ending
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
from app.engine.speech import SpeechSegmenter
from app.engine.switching import Switching
from app.engine.system_tools import SystemTools
from app.engine.text import clean_text
from app.engine.timers import CallTimers, TimerSettings
from app.engine.transcript import TranscriptLog
from app.engine.transport import CallAudioTap, CallTransport, ConversationEvents
from app.engine.turn_taking import TurnTaking
from app.engine.turns import EndOfTurnWindows, UserTurn
from app.engine.webhook_tools import CallTools, WebhookTools
from app.providers.base import PrefillsPrompts, SttStream
from app.providers.registry import ProviderSet

log = logging.getLogger(__name__)


class CallSession(Switching, TurnTaking, Ending):
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
            check_hang_up=self._caller_leaving,
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
        # The voice connects, and the model reads the prompt, while the greeting plays.
        self._spawn(self._responder.voice.open(), "voice")
        self._spawn(self._prefill(), "prefill")
        self._spawn(self._playout.run(), "playout")
        self._spawn(self._inbound_loop(self._stt), "inbound")
        self._spawn(self._watchdog(), "watchdog")
        self._transcripts = self._spawn(self._transcript_loop(self._stt), "transcripts")
        if self._disclosure.strip():
            first_message = f"{self._disclosure.strip()} {first_message}".strip()
        if first_message.strip():
            self._responder.start(first_message, "greeting")

    async def _prefill(self) -> None:
        llm = self._providers.llm
        if isinstance(llm, PrefillsPrompts):
            try:
                await llm.prefill(list(self.conversation.messages), self._responder.tools)
            except Exception as error:  # the first turn reads the prompt itself
                self.log.event("prefill_failed", error=repr(error)[:300])

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
