"""A local model's turn with tools, its text source scripted: words before a call are spoken
first; an unreadable call is counted and the turn asked again without tools, once."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import pytest

from app.observability.metrics import REGISTRY
from app.providers.base import ChatMessage, LlmEvent, TextDelta, ToolCall
from app.providers.llama.tool_turn import tool_turn

pytestmark = pytest.mark.unit

QUESTION = [ChatMessage("system", "You book."), ChatMessage("user", "Book Tuesday, I'm Ann Lee.")]
GOOD = (
    '<tool_call>\n{"name": "book", "arguments": {"name": "Ann Lee", "day": "Tuesday"}}\n'
    "</tool_call>"
)


class ScriptedModel:
    """Replies in turn, each sampled in 3-character pieces; keeps what it was asked."""

    def __init__(self, *replies: str) -> None:
        self._replies = list(replies)
        self.asked: list[list[ChatMessage]] = []
        self.offered: list[bool] = []

    async def generate(
        self, conversation: list[ChatMessage], offered: bool
    ) -> AsyncGenerator[str, None]:
        self.asked.append(list(conversation))
        self.offered.append(offered)
        reply = self._replies.pop(0)
        for i in range(0, len(reply), 3):
            yield reply[i : i + 3]


async def events(model: ScriptedModel, provider: str = "scripted") -> list[LlmEvent]:
    return [event async for event in tool_turn(model.generate, QUESTION, provider)]


def malformed_count(provider: str) -> float:
    sample = REGISTRY.get_sample_value(
        "velox_llm_malformed_tool_calls_total", {"provider": provider}
    )
    return sample or 0.0


async def test_words_come_out_before_the_call_and_the_call_last() -> None:
    model = ScriptedModel("Let me book that. " + GOOD)

    out = await events(model)

    text = "".join(e.text for e in out if isinstance(e, TextDelta))
    assert text == "Let me book that. "
    assert isinstance(out[-1], ToolCall)
    assert out[-1].arguments == {"name": "Ann Lee", "day": "Tuesday"}
    assert len(model.asked) == 1


async def test_an_unreadable_call_is_counted_and_the_turn_asked_again_without_tools() -> None:
    before = malformed_count("scripted-retry")
    model = ScriptedModel(
        'One moment. <tool_call>{"name": "book", "arguments": {"day": </tool_call>',
        "We are open from nine.",
    )

    out = await events(model, "scripted-retry")

    assert all(isinstance(e, TextDelta) for e in out)
    assert "".join(e.text for e in out if isinstance(e, TextDelta)) == (
        "One moment. We are open from nine."
    )
    assert malformed_count("scripted-retry") == before + 1
    assert model.asked == [QUESTION, QUESTION]  # the bad call is not shown to it
    assert model.offered == [True, False]


async def test_a_model_that_keeps_writing_bad_calls_ends_its_turn_in_words() -> None:
    before = malformed_count("scripted-stubborn")
    model = ScriptedModel("<tool_call>{bad}</tool_call>", "Sorry, <tool_call>[1]</tool_call>")

    out = await events(model, "scripted-stubborn")

    assert all(isinstance(e, TextDelta) for e in out)
    assert "".join(e.text for e in out if isinstance(e, TextDelta)) == "Sorry, "
    assert len(model.asked) == 2  # one retry, then the turn ends without a call
    assert malformed_count("scripted-stubborn") == before + 2
