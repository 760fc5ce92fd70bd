"""The part of a call's session that hands it over on the same line (`handover.py`): to another
agent or another of the agent's languages. Mixed into `CallSession`, whose state it changes.

`prepare_handover` does what can fail while the tool still runs (a recognizer stream in the new
language, the new prompt and first message rendered), so a failure is the tool's error;
`hand_over` then switches without awaiting anything that can fail: settings, prompt (history
kept), turn windows, interruption words, client and webhook tools, knowledge, and the voice.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Coroutine
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from app.engine.client_tools import ClientTools
from app.engine.conversation import render_call_templates
from app.engine.handover import TRANSFER_TO_AGENT, Handover
from app.engine.knowledge import TurnKnowledge
from app.engine.turns import EndOfTurnWindows

if TYPE_CHECKING:
    from app.config.agent import AgentConfig
    from app.engine.answering import Responder
    from app.engine.conversation import CallContext, Conversation
    from app.engine.interruptions import Interruptions
    from app.engine.knowledge import KnowledgeSource
    from app.engine.system_tools import SystemTools
    from app.engine.transcript import TranscriptLog
    from app.engine.transport import ConversationEvents
    from app.engine.webhook_tools import CallTools
    from app.providers.base import SttStream
    from app.providers.registry import ProviderSet


class Switching:
    if TYPE_CHECKING:
        config: AgentConfig
        context: CallContext
        log: TranscriptLog
        conversation: Conversation
        agent_id: str
        _providers: ProviderSet
        _knowledge_source: KnowledgeSource | None
        _knowledge: TurnKnowledge | None
        _windows: EndOfTurnWindows
        _interruptions: Interruptions
        _client_tools: ClientTools
        _events: ConversationEvents
        _responder: Responder
        _stt: SttStream | None
        _transcripts: asyncio.Task[None] | None
        _on_tool_outcome: Callable[[str, str], None] | None
        _closing: bool

        def _system_tools(self, config: AgentConfig) -> SystemTools: ...

        def _spawn(self, coroutine: Coroutine[Any, Any, None], name: str) -> asyncio.Task[None]: ...

        def offer_tools(
            self, tools: CallTools, on_outcome: Callable[[str, str], None] | None = None
        ) -> None: ...

        async def _transcript_loop(self, stt: SttStream) -> None: ...

    async def prepare_handover(self, handover: Handover) -> Handover:
        """`handover` with a recognizer stream in its language (when it changes, or the agent
        does) and its prompt and first message rendered; raises when they cannot be had."""
        config, agent = handover.config, handover.agent
        providers = agent.providers if agent is not None else self._providers
        language = config.conversation_config.agent.language
        context = replace(self.context, agent_id=handover.agent_id)
        prompt, greeting = await render_call_templates(config, context, self.log)
        knowledge = agent.knowledge if agent is not None else self._knowledge_source
        if knowledge is not None:
            prompt += await knowledge.prompt_section()
        stt = None
        if agent is not None or language != self.config.conversation_config.agent.language:
            stt = await providers.stt.open_stream(language)
        return replace(handover, stt=stt, prompt=prompt, greeting=greeting)

    async def hand_over(self, handover: Handover) -> str:
        """Go on as the prepared `handover` says; returns the new first message (nothing
        when the call is ending meanwhile)."""
        config, agent = handover.config, handover.agent
        if self._closing:
            if handover.stt is not None:
                _close_later(handover.stt)
            return ""
        kind = "agent_transferred" if handover.kind == TRANSFER_TO_AGENT else "language_switched"
        self.log.event(kind, **dict(handover.event))
        if agent is not None:
            self.log.handed_to(self.agent_id, agent.agent_id)
            self.agent_id = agent.agent_id
            self._providers = agent.providers
            await self._know(agent.knowledge)
        self.config = config
        self._providers.observe(self.log)
        self.conversation.set_system_prompt(handover.prompt)
        if agent is not None:
            self.conversation.add_context(
                f"the caller was transferred to you, {config.name}; the conversation so far is "
                "above. Carry on helping them."
            )
        self._windows = EndOfTurnWindows.for_agent(config)
        self._interruptions.adopt(config)
        self._client_tools = ClientTools(config, self._events, self.log)
        replaced = self._responder.adopt(
            config,
            self._providers,
            self._system_tools(config),
            self._client_tools,
            self._knowledge,
            keep_webhooks=agent is None,
        )
        self._spawn(self._responder.voice.open(), "voice")
        if agent is not None and agent.tools is not None:
            self.offer_tools(agent.tools, self._on_tool_outcome)
        if handover.stt is not None:
            self._listen_with(handover.stt)
        with contextlib.suppress(Exception):
            await replaced.aclose()
        return handover.greeting

    async def _know(self, source: KnowledgeSource | None) -> None:
        """The new agent's knowledge base replaces the old one's."""
        self._knowledge_source = source
        old, self._knowledge = (
            self._knowledge,
            (TurnKnowledge(source, self.log) if source is not None else None),
        )
        if old is not None:
            await old.close()

    def _listen_with(self, stt: SttStream) -> None:
        """The recognizer's new stream (another language or provider) replaces the old one."""
        old, self._stt = self._stt, stt
        if self._transcripts is not None:
            self._transcripts.cancel()
        self._transcripts = self._spawn(self._transcript_loop(stt), "transcripts")
        if old is not None:
            _close_later(old)


# Streams being closed: held until they are (a call's end does not cancel their closing).
_CLOSING: set[asyncio.Task[None]] = set()


def _close_later(stt: SttStream) -> None:
    task = asyncio.get_running_loop().create_task(_closed(stt), name="stt_close")
    _CLOSING.add(task)
    task.add_done_callback(_CLOSING.discard)


async def _closed(stt: SttStream) -> None:
    with contextlib.suppress(Exception):
        await stt.aclose()
