"""One turn of a local model that may call tools: its words streamed out as they come, then its
calls; a call it wrote that cannot be read is counted and handed back to it as a tool error, so
it can call again or answer in words (at most `MALFORMED_TOOL_CALL_RETRIES` times), and the turn
never fails for it."""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import AsyncGenerator, AsyncIterator, Callable

from app.observability.metrics import LLM_MALFORMED_TOOL_CALLS
from app.providers.base import ChatMessage, LlmEvent, TextDelta
from app.providers.llama.tool_calls import MalformedToolCall, ToolCallStreamParser

log = logging.getLogger(__name__)

# A reply whose tool call could not be read is asked for again this many times.
MALFORMED_TOOL_CALL_RETRIES = 1

# The model's text for a conversation, as it is sampled.
Generate = Callable[[list[ChatMessage]], AsyncGenerator[str, None]]


def tool_error_message(malformed: list[MalformedToolCall]) -> ChatMessage:
    """What the model is told when its tool call could not be read."""
    reasons = "; ".join(f"{m.reason}: {m.raw!r}" for m in malformed)
    return ChatMessage(
        "tool",
        json.dumps(
            {
                "error": f"your tool call could not be read ({reasons}). Call the tool again as "
                '<tool_call>{"name": "<tool name>", "arguments": {...}}</tool_call>, '
                "or answer the caller in words."
            }
        ),
    )


async def tool_turn(
    generate: Generate, messages: list[ChatMessage], provider: str
) -> AsyncIterator[LlmEvent]:
    conversation = list(messages)
    for attempt in range(MALFORMED_TOOL_CALL_RETRIES + 1):
        parser = ToolCallStreamParser()
        written: list[str] = []
        async with contextlib.aclosing(generate(conversation)) as texts:
            async for text in texts:
                written.append(text)
                if spoken := parser.feed(text):
                    yield TextDelta(spoken)
        if tail := parser.finish():
            yield TextDelta(tail)
        for call in parser.calls:
            yield call
        if not parser.malformed:
            return
        LLM_MALFORMED_TOOL_CALLS.labels(provider=provider).inc(len(parser.malformed))
        log.warning(
            "%s wrote an unreadable tool call (attempt %d): %s",
            provider,
            attempt + 1,
            "; ".join(f"{m.reason}: {m.raw[:120]!r}" for m in parser.malformed),
        )
        if parser.calls:
            return  # the readable calls run; the model hears their results next round
        conversation += [
            ChatMessage("assistant", "".join(written)),
            tool_error_message(parser.malformed),
        ]
