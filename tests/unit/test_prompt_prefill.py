"""A call's model reads the system prompt and tools ahead, while the greeting plays, when it can
(`PrefillsPrompts`); a read-ahead that fails is an event, and the call goes on."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from app.providers.base import ChatMessage, ToolSpec
from tests.fakes.providers import ScriptedLanguageModel
from tests.unit.test_hang_up_check import call_with


@dataclass
class ReadingModel(ScriptedLanguageModel):
    read: list[tuple[list[str], list[str]]] = field(default_factory=list)
    fails: bool = False

    async def prefill(self, messages: list[ChatMessage], tools: list[ToolSpec]) -> None:
        if self.fails:
            raise RuntimeError("out of memory")
        self.read.append(([m.role for m in messages], [t.name for t in tools]))


async def test_the_prompt_and_tools_are_read_ahead_at_the_start() -> None:
    llm = ReadingModel(lambda m: "We open at nine.")
    session, _ = await call_with(llm, "When do you open?")
    await asyncio.sleep(0.1)

    assert llm.read == [(["system"], ["end_call"])]
    await session.close("caller_hung_up")


async def test_a_read_ahead_that_fails_is_an_event_and_the_call_goes_on() -> None:
    llm = ReadingModel(lambda m: "We open at nine.", fails=True)
    session, _ = await call_with(llm, "When do you open?")
    await asyncio.sleep(0.1)

    assert not session.closed
    events = [e for e in session.log.events if e.kind == "prefill_failed"]
    assert len(events) == 1
    assert "out of memory" in events[0].data["error"]
    await session.close("caller_hung_up")
