"""One turn of a local model that may call tools: its words streamed out as they come, then its
calls. A call it wrote that cannot be read is counted and the turn asked again without tools, so
the model answers in words (at most `MALFORMED_TOOL_CALL_RETRIES` times); the turn never fails for
it. Handed back as a tool error instead, Qwen2.5-Coder-0.5B read the error out to the caller
("The tool call could not be read (not JSON…").
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncGenerator, AsyncIterator, Callable

from app.observability.metrics import LLM_MALFORMED_TOOL_CALLS
from app.providers.base import ChatMessage, LlmEvent, TextDelta
from app.providers.llama.tool_calls import ToolCallStreamParser

log = logging.getLogger(__name__)

# A reply whose tool call could not be read is asked for again this many times.
MALFORMED_TOOL_CALL_RETRIES = 1

# The model's text for a conversation, as it is sampled; with the turn's tools offered or none.
Generate = Callable[[list[ChatMessage], bool], AsyncGenerator[str, None]]


async def tool_turn(
    generate: Generate, messages: list[ChatMessage], provider: str
) -> AsyncIterator[LlmEvent]:
    for attempt in range(MALFORMED_TOOL_CALL_RETRIES + 1):
        parser = ToolCallStreamParser()
        async with contextlib.aclosing(generate(list(messages), attempt == 0)) as texts:
            async for text in texts:
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
