"""A model's `end_call` checked before the call hangs up (app/engine/leaving.py): refused when
the model, asked, says the caller's last words are no goodbye (the call is taken out of its
history and it answers again without `end_call`); kept when they are, when the check cannot be
made, and for models that need no check. A tool the model made up is taken back the same way."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

from app.config.agent import AgentConfig
from app.engine.conversation import CallContext
from app.engine.leaving import REFUSED
from app.engine.options import EngineOptions
from app.engine.session import CallSession
from app.engine.transport import ConversationEvents
from app.providers.base import (
    ChatMessage,
    GenerationOptions,
    LlmEvent,
    ProviderError,
    ToolSpec,
)
from app.providers.energy.vad import EnergyVad
from app.providers.registry import ProviderSet
from tests.fakes.providers import (
    Reply,
    ScriptedLanguageModel,
    ScriptedSpeechToText,
    ToneTextToSpeech,
    tool_call,
)
from tests.unit.test_conversation_events import PacedLine, Recorder

ANSWER = "Sure, what is the make and model of your car?"


def first_end_call_then_words() -> Callable[[list[ChatMessage]], Reply]:
    """The small model's habit: `end_call` for a request it has no tool for; then words."""
    replies: list[Reply] = [[tool_call("end_call")]]
    return lambda messages: replies.pop() if replies else ANSWER


@dataclass
class DoubtedModel(ScriptedLanguageModel):
    """A scripted model that asks for its hang-ups to be checked, and answers the check."""

    verdict: bool | None = False  # None: the check fails
    checks_hang_ups: bool = True
    checks: list[str] = field(default_factory=list)
    offered: list[list[str]] = field(default_factory=list)

    def stream(
        self, messages: list[ChatMessage], tools: list[ToolSpec], options: GenerationOptions
    ) -> AsyncIterator[LlmEvent]:
        self.offered.append([tool.name for tool in tools])
        return super().stream(messages, tools, options)

    async def complete_json(
        self, messages: list[ChatMessage], schema: dict[str, object], options: GenerationOptions
    ) -> str:
        self.checks.append(messages[-1].content)
        if self.verdict is None:
            raise ProviderError(self.name, "no answer")
        return json.dumps({"caller_is_leaving": self.verdict})


class Answered(ConversationEvents):
    """Sets `said` once the agent's answer is `text`."""

    def __init__(self, text: str, said: asyncio.Event) -> None:
        self.text, self.said = text, said

    def agent_response(self, text: str) -> None:
        if text.strip() == self.text:
            self.said.set()


async def call_with(
    llm: ScriptedLanguageModel, said: str, events: ConversationEvents | None = None
) -> tuple[CallSession, Recorder]:
    config = AgentConfig()
    config.conversation_config.agent.first_message = ""
    line, recorder = PacedLine(), Recorder()
    session = CallSession(
        context=CallContext(call_id="conv_1", organization_id="org_1", agent_id="agent_1"),
        config=config,
        providers=ProviderSet(
            vad=EnergyVad(), stt=ScriptedSpeechToText([]), llm=llm, tts=ToneTextToSpeech()
        ),
        transport=line,
        recorder=recorder,
        options=EngineOptions(),
        events=events,
    )
    line.session = session
    line.started = asyncio.get_running_loop().time()
    await session.start()
    await session.on_user_message(said)
    return session, recorder


async def ended_within(session: CallSession, seconds: float) -> bool:
    try:
        async with asyncio.timeout(seconds):
            await session.wait_closed()
    except TimeoutError:
        return False
    return True


async def test_an_end_call_on_a_request_is_refused_and_the_model_answers_it() -> None:
    llm = DoubtedModel(first_end_call_then_words(), verdict=False)
    said = asyncio.Event()
    session, _ = await call_with(llm, "I want to book an oil change.", Answered(ANSWER, said))

    async with asyncio.timeout(10):
        await said.wait()
    assert not session.closed
    assert llm.checks == ['The caller said: "I want to book an oil change."']
    # Asked again as if it had not called it, and without `end_call` this time.
    assert [m.role for m in llm.requests[-1]] == ["system", "user"]
    assert "end_call" in llm.offered[0]
    assert "end_call" not in llm.offered[1]
    # The call's record keeps what happened.
    refused = [r for t in session.log.turns for r in t.tool_results if r["tool_name"] == "end_call"]
    assert [json.loads(r["result_value"])["error"] for r in refused] == [REFUSED]
    kinds = [e.kind for e in session.log.events]
    assert "end_call_refused" in kinds
    await session.close("caller_hung_up")


async def test_a_goodbye_ends_the_call() -> None:
    llm = DoubtedModel(lambda m: [tool_call("end_call")], verdict=True)
    session, recorder = await call_with(llm, "Thanks, that's all. Goodbye!")

    assert await ended_within(session, 3)
    assert recorder.records[0].termination_reason == "agent_ended_call"
    assert len(llm.checks) == 1


async def test_a_check_that_cannot_be_made_lets_the_model_hang_up() -> None:
    llm = DoubtedModel(lambda m: [tool_call("end_call")], verdict=None)
    session, recorder = await call_with(llm, "I want to book an oil change.")

    assert await ended_within(session, 3)
    assert recorder.records[0].termination_reason == "agent_ended_call"
    assert "hang_up_check_failed" in [e.kind for e in recorder.records[0].events]


async def test_a_model_that_needs_no_check_is_not_asked() -> None:
    llm = DoubtedModel(lambda m: [tool_call("end_call")], verdict=False, checks_hang_ups=False)
    session, recorder = await call_with(llm, "I want to book an oil change.")

    assert await ended_within(session, 3)
    assert llm.checks == []
    assert recorder.records[0].termination_reason == "agent_ended_call"


async def test_a_made_up_tool_is_taken_back_and_the_turn_answered_in_words() -> None:
    replies: list[Reply] = [[tool_call("first_exam")]]
    llm = DoubtedModel(lambda m: replies.pop() if replies else ANSWER, checks_hang_ups=False)
    said = asyncio.Event()
    session, _ = await call_with(llm, "How much is a first exam?", Answered(ANSWER, said))

    async with asyncio.timeout(10):
        await said.wait()
    assert [m.role for m in llm.requests[-1]] == ["system", "user"]
    assert llm.offered[1] == []
    assert session.log.counters["unknown_tool_calls"] == 1
    await session.close("caller_hung_up")
