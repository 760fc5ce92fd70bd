"""The Groq LLM, through the official SDK, against a local server speaking Groq's wire format."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncGenerator, AsyncIterator, Iterator
from typing import cast

import pytest

from app.providers.base import (
    ChatMessage,
    GenerationOptions,
    LlmEvent,
    ProviderError,
    TextDelta,
    ToolCall,
    ToolSpec,
)
from app.providers.groq.llm import GroqLanguageModel
from tests.fakes.cloud.groq import (
    GroqChatDouble,
    GroqScript,
    Refusal,
    ScriptedToolCall,
    rate_limited,
    server_error,
)

pytestmark = pytest.mark.e2e

API_KEY = "gsk_test_123"
MESSAGES = [ChatMessage("system", "Be brief."), ChatMessage("user", "Hi")]
END_CALL = ToolSpec("end_call", "End the call.", {"type": "object", "properties": {}})


@pytest.fixture
def groq() -> Iterator[GroqChatDouble]:
    with GroqChatDouble(API_KEY) as double:
        yield double


@pytest.fixture
async def llm(groq: GroqChatDouble) -> AsyncIterator[GroqLanguageModel]:
    model = GroqLanguageModel(API_KEY, base_url=groq.base_url)
    yield model
    await model.aclose()


async def _collect(llm: GroqLanguageModel, tools: list[ToolSpec] | None = None) -> list[LlmEvent]:
    return [e async for e in llm.stream(MESSAGES, tools or [], GenerationOptions())]


async def _collect_into(events: list[LlmEvent], llm: GroqLanguageModel) -> None:
    async for event in llm.stream(MESSAGES, [], GenerationOptions()):
        events.append(event)


async def test_text_streams_as_deltas_in_order(
    groq: GroqChatDouble, llm: GroqLanguageModel
) -> None:
    events = await _collect(llm)

    assert events == [TextDelta("Hello"), TextDelta(" there"), TextDelta("!")]


async def test_request_is_groqs_chat_completions_call_with_tools(
    groq: GroqChatDouble, llm: GroqLanguageModel
) -> None:
    earlier = ToolCall(id="call_1", name="lookup_order", arguments={"order": "A7"})
    messages = [
        *MESSAGES,
        ChatMessage("assistant", "", tool_calls=(earlier,)),
        ChatMessage("tool", '{"status": "shipped"}', tool_call_id="call_1"),
    ]

    stream = llm.stream(messages, [END_CALL], GenerationOptions(temperature=0.2, max_tokens=64))
    [_ async for _ in stream]

    [request] = groq.requests
    assert request.path == "/openai/v1/chat/completions"
    assert request.headers["Authorization"] == f"Bearer {API_KEY}"
    body = request.body
    assert (body["model"], body["stream"]) == ("llama-3.1-8b-instant", True)
    assert (body["temperature"], body["max_tokens"]) == (0.2, 64)
    assert body["messages"][2]["tool_calls"][0]["function"] == {
        "name": "lookup_order",
        "arguments": '{"order": "A7"}',
    }
    assert body["messages"][3] == {
        "role": "tool",
        "content": '{"status": "shipped"}',
        "tool_call_id": "call_1",
    }
    assert body["tools"] == [
        {
            "type": "function",
            "function": {
                "name": "end_call",
                "description": "End the call.",
                "parameters": {"type": "object", "properties": {}},
            },
        }
    ]


async def test_request_without_tools_or_limit_leaves_them_out(
    groq: GroqChatDouble, llm: GroqLanguageModel
) -> None:
    await _collect(llm)

    assert "tools" not in groq.requests[0].body
    assert "max_tokens" not in groq.requests[0].body


async def test_tool_calls_are_assembled_and_emitted_after_the_text(
    groq: GroqChatDouble, llm: GroqLanguageModel
) -> None:
    groq.script = GroqScript(
        text=["One moment."],
        tool_calls=[
            ScriptedToolCall("call_a", "transfer_call", '{"phone_number": "+15550100"}'),
            ScriptedToolCall("call_b", "end_call", '{"reason": "transferred"}', pieces=3),
        ],
    )

    events = await _collect(llm, [END_CALL])

    assert events == [
        TextDelta("One moment."),
        ToolCall("call_a", "transfer_call", {"phone_number": "+15550100"}),
        ToolCall("call_b", "end_call", {"reason": "transferred"}),
    ]


async def test_slow_first_byte_is_waited_for(groq: GroqChatDouble, llm: GroqLanguageModel) -> None:
    groq.script = GroqScript(first_byte_delay_s=1.0)
    started = time.monotonic()

    events = await _collect(llm)

    assert time.monotonic() - started >= 0.9
    assert events == [TextDelta("Hello"), TextDelta(" there"), TextDelta("!")]


async def test_connection_dropped_mid_reply_raises_provider_error_after_the_words_so_far(
    groq: GroqChatDouble, llm: GroqLanguageModel
) -> None:
    groq.script = GroqScript(drop_after=2)
    events: list[LlmEvent] = []

    with pytest.raises(ProviderError, match="dropped mid-reply") as raised:
        await _collect_into(events, llm)

    assert events == [TextDelta("Hello"), TextDelta(" there")]
    assert raised.value.status is None


async def test_stream_that_ends_without_finishing_raises_provider_error(
    groq: GroqChatDouble, llm: GroqLanguageModel
) -> None:
    groq.script = GroqScript(finish=False)

    with pytest.raises(ProviderError, match="ended before the reply was complete"):
        await _collect(llm)


async def test_wrong_key_raises_provider_error_401_naming_the_key(groq: GroqChatDouble) -> None:
    llm = GroqLanguageModel("gsk_wrong", base_url=groq.base_url)

    with pytest.raises(ProviderError) as raised:
        await _collect(llm)
    await llm.aclose()

    assert raised.value.status == 401
    assert "Invalid API Key" in str(raised.value)
    assert "Groq API key" in str(raised.value)
    assert "gsk_wrong" not in str(raised.value)


@pytest.mark.parametrize(
    ("refusal", "excerpt"),
    [
        (rate_limited(retry_after_s=7), "Groq asks to wait 7 s"),
        (server_error(500), "Internal Server Error"),
        (server_error(503), "Service Unavailable"),
    ],
)
async def test_refusal_keeps_the_status_and_is_not_retried_by_the_sdk(
    groq: GroqChatDouble, llm: GroqLanguageModel, refusal: Refusal, excerpt: str
) -> None:
    groq.script = GroqScript(refuse=refusal)

    with pytest.raises(ProviderError) as raised:
        await _collect(llm)

    assert raised.value.status == refusal.status
    assert excerpt in str(raised.value)
    assert len(groq.requests) == 1  # the engine's resilience layer decides about retries


async def test_malformed_chunk_is_skipped_and_the_reply_goes_on(
    groq: GroqChatDouble, llm: GroqLanguageModel
) -> None:
    groq.script = GroqScript(malformed_after=1)

    events = await _collect(llm)

    assert events == [TextDelta("Hello"), TextDelta(" there"), TextDelta("!")]
    assert llm.skipped_chunks == 1


async def test_unreachable_endpoint_raises_provider_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    llm = GroqLanguageModel(API_KEY, base_url=f"http://127.0.0.1:{port}")

    with pytest.raises(ProviderError, match="that Groq is reachable") as raised:
        await _collect(llm)
    await llm.aclose()

    assert raised.value.status is None


async def test_closing_the_stream_hangs_up_on_the_server_at_once(
    groq: GroqChatDouble, llm: GroqLanguageModel
) -> None:
    groq.script = GroqScript(text=[f"word{n} " for n in range(200)], chunk_delay_s=0.02)
    stream = cast(AsyncGenerator[LlmEvent, None], llm.stream(MESSAGES, [], GenerationOptions()))

    first = await anext(stream)
    await stream.aclose()

    assert first == TextDelta("word0 ")
    assert await asyncio.to_thread(groq.client_hung_up.wait, 2.0)
