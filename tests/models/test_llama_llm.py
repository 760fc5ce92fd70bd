"""SmolLM2-135M on llama.cpp, for real: streaming, latency, cancellation, sharing, prefix reuse."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncGenerator, Callable
from typing import cast

import pytest

from app.providers.base import (
    ChatMessage,
    GenerationOptions,
    LanguageModel,
    LlmEvent,
    ProviderError,
    TextDelta,
    ToolSpec,
)
from app.providers.llama.llm import LlamaLanguageModel
from app.providers.llama.model_files import SMOLLM2, smollm2_path

pytestmark = pytest.mark.models

RECEPTIONIST = (
    "You are Ava, the receptionist of Brightsmile Dental in Springfield. Answer in one or two "
    "short sentences. We open Monday to Friday, 8am to 6pm, at 12 Oak Street."
)
SUPPORT = (
    "You are Max, a support agent for Velox Internet. Keep answers short and polite. "
    "Plans: Basic 50 Mbps for 30 dollars, Fast 300 Mbps for 50 dollars."
)
ENGLISH_WORDS = {"i", "you", "the", "a", "am", "is", "are", "to", "hello", "hi", "can", "help"}
GREEDY = GenerationOptions(temperature=0.0, max_tokens=40)


@pytest.fixture(scope="module")
def llm() -> LlamaLanguageModel:
    return LlamaLanguageModel(SMOLLM2, smollm2_path(), calls_tools=False)


def _chat(system: str, *turns: str) -> list[ChatMessage]:
    roles = ("user", "assistant")
    history = [ChatMessage(roles[i % 2], text) for i, text in enumerate(turns)]  # type: ignore[arg-type]
    return [ChatMessage("system", system), *history]


async def _reply(
    llm: LlamaLanguageModel, messages: list[ChatMessage], options: GenerationOptions = GREEDY
) -> tuple[list[LlmEvent], float, list[float]]:
    """The events, seconds to the first one, and each event's arrival time."""
    started = time.perf_counter()
    events: list[LlmEvent] = []
    arrivals: list[float] = []
    async for event in llm.stream(messages, [], options):
        events.append(event)
        arrivals.append(time.perf_counter())
    return events, arrivals[0] - started, arrivals


def _seconds_until(condition: Callable[[], bool], timeout_s: float) -> float:
    started = time.perf_counter()
    while not condition() and time.perf_counter() - started < timeout_s:
        time.sleep(0.0005)
    return time.perf_counter() - started


def _text(events: list[LlmEvent]) -> str:
    assert all(isinstance(e, TextDelta) for e in events)
    return "".join(e.text for e in events if isinstance(e, TextDelta))


def test_llama_satisfies_the_language_model_protocol(llm: LlamaLanguageModel) -> None:
    assert isinstance(llm, LanguageModel)


async def test_greeting_question_streams_an_english_reply_token_by_token(
    llm: LlamaLanguageModel,
) -> None:
    events, first_s, _ = await _reply(llm, _chat(RECEPTIONIST, "Hello! How are you today?"))

    words = set(re.findall(r"[a-z']+", _text(events).lower()))
    print(f"\nllama: first token {first_s * 1000:.0f} ms: {_text(events)!r}")
    assert len(events) >= 3
    assert words & ENGLISH_WORDS
    assert first_s < 2.0


async def test_max_tokens_bounds_the_reply(llm: LlamaLanguageModel) -> None:
    options = GenerationOptions(temperature=0.0, max_tokens=5)

    events, _, _ = await _reply(
        llm, _chat(SUPPORT, "Tell me about all your plans in detail."), options
    )

    assert 1 <= len(events) <= 5


async def test_tools_are_ignored_and_only_text_streams(llm: LlamaLanguageModel) -> None:
    end_call = ToolSpec("end_call", "End the call.", {"type": "object", "properties": {}})
    stream = llm.stream(_chat(SUPPORT, "Thanks, that's all. Goodbye!"), [end_call], GREEDY)

    events = [event async for event in stream]

    assert events
    assert all(isinstance(e, TextDelta) for e in events)


async def test_closing_the_stream_mid_reply_stops_generation_within_a_token(
    llm: LlamaLanguageModel,
) -> None:
    long_story = GenerationOptions(temperature=0.7, max_tokens=400)
    cancelled_before = llm.generations_cancelled
    stream = cast(
        AsyncGenerator[LlmEvent, None],
        llm.stream(_chat(RECEPTIONIST, "Tell me a long story about a dragon."), [], long_story),
    )
    for _ in range(3):
        await anext(stream)

    await stream.aclose()
    stopped_s = await asyncio.to_thread(
        _seconds_until, lambda: llm.generations_cancelled > cancelled_before, 2.0
    )
    _, next_first_s, _ = await _reply(llm, _chat(SUPPORT, "Hi!"))

    print(f"\nllama: generation stopped {stopped_s * 1000:.1f} ms after close")
    assert llm.generations_cancelled == cancelled_before + 1
    assert stopped_s < 0.1  # one token takes ~10 ms; 400 would take seconds
    assert next_first_s < 1.0


async def test_concurrent_calls_take_turns_and_each_hears_its_own_reply(
    llm: LlamaLanguageModel,
) -> None:
    (a, _, a_times), (b, _, b_times) = await asyncio.gather(
        _reply(llm, _chat(RECEPTIONIST, "Where are you?")),
        _reply(llm, _chat(SUPPORT, "What plans do you have?")),
    )

    # Each on a context of its own: no words of one prompt in the other's reply.
    assert "Springfield" in _text(a)
    assert "Mbps" not in _text(a)
    assert "Mbps" in _text(b)
    assert "Springfield" not in _text(b)
    # They take turns: the second call's first words do not wait for the whole first reply.
    assert b_times[0] < a_times[-1]
    assert a_times[0] < b_times[-1]
    assert llm.scheduler.contexts_opened >= 2


async def test_interleaved_calls_resume_from_their_cached_conversation(
    llm: LlamaLanguageModel,
) -> None:
    first_question = "Are you open on Saturday?"
    a_reply, _, _ = await _reply(llm, _chat(RECEPTIONIST, first_question))
    await _reply(llm, _chat(SUPPORT, "Is there an outage?"))
    hits_before = llm.prefix_cache.hits if llm.prefix_cache else 0

    await _reply(llm, _chat(RECEPTIONIST, first_question, _text(a_reply), "And on Monday?"))

    # Only the new question and the assistant header are evaluated, not the ~100-token prompt.
    assert llm.prefix_cache is not None
    assert llm.prefix_cache.hits == hits_before + 1
    assert llm.last_prompt_tokens_evaluated < 25


async def test_prompt_too_long_for_the_context_raises_provider_error(
    llm: LlamaLanguageModel,
) -> None:
    huge_system_prompt = "Always be polite to the caller. " * 400

    with pytest.raises(ProviderError, match="shorten the agent's system prompt"):
        await _reply(llm, _chat(huge_system_prompt, "Hi"))
