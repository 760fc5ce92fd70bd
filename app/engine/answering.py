"""How the agent answers a turn: LLM rounds with tools, scripted lines, and failure recovery."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

from app.aio import cancel_and_wait, wait_out
from app.audio.formats import AudioFormat
from app.config.agent import AgentConfig
from app.engine.client_tools import ClientTools
from app.engine.conversation import Conversation
from app.engine.handover import Handover
from app.engine.knowledge import TurnKnowledge, with_knowledge
from app.engine.phrases import PhraseCache
from app.engine.playout import Playout
from app.engine.response import AgentResponse, ResponseResult, fixed_text
from app.engine.system_tools import SystemTools
from app.engine.tool_runs import ToolRuns
from app.engine.tool_turns import FILLER_TURN, ToolTurns
from app.engine.transcript import TranscriptLog
from app.engine.transport import AudioEncoder, CallTransport, ConversationEvents
from app.engine.voice import CallVoice
from app.engine.webhook_tools import WebhookTools
from app.providers.base import (
    ChatMessage,
    GenerationOptions,
    LlmEvent,
    TextToSpeech,
    ToolCall,
    ToolSpec,
)
from app.providers.registry import ProviderSet

log = logging.getLogger(__name__)

MAX_TOOL_ROUNDS = 3
LLM_SOURCES = frozenset({"voice", "dtmf", "text"})


@dataclass(frozen=True, slots=True)
class ResponseRequest:
    text: str
    source: str  # voice | dtmf | text (answered by the LLM) or greeting | reprompt | goodbye
    number: int
    end_of_speech: float | None = None
    then_end: str | None = None  # hang up with this reason once it has been heard


class Responder(ToolTurns):
    """Owns the response in flight; the session cancels it on barge-in or hang-up."""

    def __init__(
        self,
        *,
        config: AgentConfig,
        providers: ProviderSet,
        conversation: Conversation,
        system_tools: SystemTools,
        client_tools: ClientTools,
        transport: CallTransport,
        playout: Playout,
        encoder: AudioEncoder,
        tts_format: AudioFormat,
        log: TranscriptLog,
        end_call: Callable[[str], None],
        on_done: Callable[[], None],
        events: ConversationEvents | None = None,
        phrases: PhraseCache | None = None,
        voice: TextToSpeech | None = None,
        knowledge: TurnKnowledge | None = None,
        hand_over: Callable[[Handover], Awaitable[str]] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._config = config
        self._knowledge = knowledge
        self._providers = providers
        self._conversation = conversation
        self._client_tools = client_tools
        self._system_tools = system_tools
        self._tools = [*system_tools.specs(), *client_tools.specs()]
        # Switches the call to another agent or language; returns the first message to say.
        self._hand_over = hand_over
        self._handover: Handover | None = None
        self._transport = transport
        self._playout = playout
        self._encoder = encoder
        self._log = log
        self._end_call = end_call
        # Set when a tool ended the agent's turn (end_call, a transfer that went through,
        # skip_turn, voicemail): no more rounds.
        self._turn_over = False
        # Tool calls taken back this round (a refused hang-up, a tool the model made up): the
        # turn is answered again, in words.
        self._withdrawn: list[ToolCall] = []
        self._on_done = on_done
        self._task: asyncio.Task[None] | None = None
        # Set once the call closes: nothing starts speaking after (a final transcript, a timer
        # or a keypad digit landing while the call closes would start a response nobody ends).
        self._shut = False
        self._counter = 0
        self._events = events or ConversationEvents()
        self._clock = clock
        self._phrases = phrases
        self._text_voice = voice
        self.voice, self._fixed_voice = self._voices(tts_format)
        self.current: AgentResponse | None = None
        self.current_request: ResponseRequest | None = None
        self._tool_runs = ToolRuns(conversation, clock=clock)
        self._webhooks: WebhookTools | None = None

    def _voices(self, tts_format: AudioFormat) -> tuple[CallVoice, CallVoice]:
        """One connection for the call's answers; fixed lines one by one through the phrase
        cache (LLM answers never repeat exactly). A text-only conversation's `voice` replaces
        the agent's TTS."""
        voice = self._text_voice
        tts: TextToSpeech = voice or self._providers.tts
        voice_id = self._config.conversation_config.tts.voice_id
        phrases = self._phrases
        fixed = phrases.voice(tts) if phrases is not None and voice is None else tts
        return CallVoice(tts, voice_id, tts_format), CallVoice(fixed, voice_id, tts_format)

    def adopt(
        self,
        config: AgentConfig,
        providers: ProviderSet,
        system_tools: SystemTools,
        client_tools: ClientTools,
        knowledge: TurnKnowledge | None,
        *,
        keep_webhooks: bool,
    ) -> CallVoice:
        """Answer from now on as `config` says (another agent, another language); returns the
        voice replaced, for the caller to close."""
        self._config, self._providers, self._knowledge = config, providers, knowledge
        self._system_tools, self._client_tools = system_tools, client_tools
        if not keep_webhooks:
            self._webhooks = None
        webhooks = self._webhooks.specs() if self._webhooks is not None else []
        self._tools = [*system_tools.specs(), *client_tools.specs(), *webhooks]
        tts_format = (self._text_voice or providers.tts).output_format(
            self._transport.output_format
        )
        replaced = self.voice
        self.voice, self._fixed_voice = self._voices(tts_format)
        return replaced

    @property
    def tools(self) -> list[ToolSpec]:
        """The tools the model is offered on a turn."""
        return list(self._tools)

    def offer_webhook_tools(self, webhooks: WebhookTools) -> None:
        """The call's webhook tools (loaded by the calls room), offered from the next turn on."""
        self._webhooks = webhooks
        self._tools = [*self._tools, *webhooks.specs()]

    async def close_tools(self) -> None:
        await self._tool_runs.close()

    def start(
        self,
        text: str,
        source: str,
        *,
        end_of_speech: float | None = None,
        then_end: str | None = None,
    ) -> None:
        """Answer in a task of its own, replacing any response in flight (one at a time);
        nothing once the call has shut its responder."""
        if self._shut:
            return
        previous = self._task
        if previous is not None:
            # Cancelled here, not in the new task: a new task cancelled before its first step
            # never runs, and the response it replaced would go on unstopped and forgotten.
            previous.cancel()
        self._counter += 1
        request = ResponseRequest(text, source, self._counter, end_of_speech, then_end)
        self._task = asyncio.create_task(
            self._run(request, previous), name=f"response:{self._counter}"
        )

    async def cancel(self) -> None:
        task, self._task = self._task, None
        if task is not None and not task.done():
            await cancel_and_wait(task)

    async def shut(self) -> None:
        """The call is closing: stop the response in flight, and start none after."""
        self._shut = True
        await self.cancel()

    async def _run(self, request: ResponseRequest, previous: asyncio.Task[None] | None) -> None:
        if previous is not None and not previous.done():
            await wait_out(previous)  # cancelled by `start`
        try:
            await self._answer(request)
        except asyncio.CancelledError:
            raise
        except Exception as error:
            log.exception("response %d failed", request.number)
            self._log.event("response_error", error=repr(error))
        finally:
            self._on_done()

    async def _answer(self, request: ResponseRequest) -> None:
        self.current_request = request
        try:
            if request.source in LLM_SOURCES:
                self._conversation.add_user(request.text)
                await self._answer_with_llm(request)
            else:
                await self._say(request.text, request, f"f{request.number}")
            if request.then_end:
                self._end_call(request.then_end)
        finally:
            self.current = None
            self.current_request = None

    def record_interrupted(self) -> None:
        """The caller cut in: keep in history only what they heard of the current response."""
        response, request = self.current, self.current_request
        if response is None or request is None:
            return
        source = "tool_filler" if response.turn_id.startswith(FILLER_TURN) else request.source
        heard = self._log.interrupted_agent_turn(
            response, self._playout, source, self._first_round_end_of_speech(response)
        )
        self._conversation.add_agent(heard)
        self._events.agent_response_correction(response.generated_text.strip(), heard)
        self.current = None

    def _first_round_end_of_speech(self, response: AgentResponse) -> float | None:
        request = self.current_request
        if request is None or not response.turn_id.endswith(".0"):
            return None
        return request.end_of_speech

    async def _answer_with_llm(self, request: ResponseRequest) -> None:
        config = self._config.conversation_config.agent.prompt
        options = GenerationOptions(
            temperature=config.temperature,
            max_tokens=config.max_tokens if config.max_tokens > 0 else None,
        )
        # A tool still running from a turn the caller cut into: its result first.
        await self._tool_runs.settle()
        passages = await self._passages(request)
        tools = self._tools
        for round_number in range(MAX_TOOL_ROUNDS):
            turn_id = f"r{request.number}.{round_number}"
            events = self._providers.llm.stream(
                with_knowledge(list(self._conversation.messages), passages), tools, options
            )
            try:
                response, result = await self._speak(turn_id, events, from_llm=True)
            except Exception as error:
                await self._recover(turn_id, error)
                return
            end_of_speech = request.end_of_speech if round_number == 0 else None
            result.timings.llm_provider = self._providers.llm.name
            self._log_agent(response, result, request.source, end_of_speech)
            self._conversation.add_agent(result.text, tuple(result.tool_calls))
            if not result.tool_calls:
                return
            turn = self._log.turns[-1] if self._log.turns else None
            self._turn_over = False
            for call in result.tool_calls:
                await self._call_tool(call, turn, request.number)
            if self._turn_over:
                return  # a transfer that failed goes back to the model, which tells the caller
            if self._withdrawn:  # kept in the call's record, out of the model's history
                self._conversation.withdraw(self._withdrawn)
                self._withdrawn = []
                tools = []  # this round in words
            if self._handover is not None and await self._carry_out(request):
                return  # the new agent greeted the caller: theirs to speak next
        self._log.event("tool_rounds_exhausted", rounds=MAX_TOOL_ROUNDS)

    async def _carry_out(self, request: ResponseRequest) -> bool:
        """The handover a tool asked for: its message in the current voice, its delay, then the
        switch (carried out even if the caller cuts in first); True when the new agent has said
        its first message, False when it is to answer the caller itself."""
        handover, self._handover = self._handover, None
        if handover is None or self._hand_over is None:
            return False
        try:
            if handover.message:
                await self._say(handover.message, request, f"h{request.number}")
            if handover.delay_s > 0:
                await asyncio.sleep(handover.delay_s)
        finally:
            first_message = await asyncio.shield(self._hand_over(handover))
        if handover.first_message and first_message.strip():
            await self._say(first_message, request, f"h{request.number}.first")
            return True
        return False

    async def _passages(self, request: ResponseRequest) -> ChatMessage | None:
        if self._knowledge is None or request.source not in ("voice", "text"):
            return None
        return await self._knowledge.context_for(request.text, f"r{request.number}")

    async def _say(self, text: str, request: ResponseRequest, turn_id: str) -> bool:
        """Speak a fixed line; False if the voice failed (what was heard of it is kept)."""
        try:
            response, result = await self._speak(turn_id, fixed_text(text), from_llm=False)
        except Exception as error:
            self._log.event("provider_error", role="tts", error=repr(error), turn=turn_id)
            self._keep_heard(self.current, request.source)
            return False
        self._log_agent(response, result, request.source, None)
        self._conversation.add_agent(result.text)
        return True

    def _keep_heard(self, response: AgentResponse | None, source: str) -> None:
        """A response cut by a failure: what the caller heard of it goes in the record."""
        if response is not None and response.result.sentences:
            heard = self._playout.heard_text(response.result.marks)
            self._log.agent_turn(response, heard, source, None, interrupted=True)
            self._conversation.add_agent(heard)

    async def _speak(
        self, turn_id: str, events: AsyncIterator[LlmEvent], *, from_llm: bool
    ) -> tuple[AgentResponse, ResponseResult]:
        self._events.response_started()
        response = AgentResponse(
            turn_id=turn_id,
            events=events,
            voice=self.voice if from_llm else self._fixed_voice,
            encoder=self._encoder,
            playout=self._playout,
            from_llm=from_llm,
            on_text_complete=self._events.agent_response,
            clock=self._clock,
        )
        self.current = response
        result = await response.run()
        self.current = None  # heard in full: nothing left for a barge-in to trim
        return response, result

    def _log_agent(
        self,
        response: AgentResponse,
        result: ResponseResult,
        source: str,
        end_of_speech: float | None,
    ) -> None:
        if result.text or result.tool_calls:
            self._log.agent_turn(response, result.text, source, end_of_speech)

    async def _recover(self, turn_id: str, error: Exception) -> None:
        """A provider failed mid-answer: keep what was heard, say so, and go on listening."""
        provider = getattr(error, "provider", None)
        log.warning("response %s failed: %r", turn_id, error)
        self._log.event("provider_error", provider=provider, error=repr(error), turn=turn_id)
        self._log.count("provider_errors")
        self._keep_heard(self.current, "voice")
        fallback = self._config.velox.fallback_message
        if fallback:
            request = ResponseRequest(fallback, "fallback", 0)
            # A voice that fails on the apology itself: once more, from the start (the voice's
            # fallback chain has moved on by then), so the caller is not left with half of it.
            if not await self._say(fallback, request, f"{turn_id}.fb"):
                await self._say(fallback, request, f"{turn_id}.fb2")
