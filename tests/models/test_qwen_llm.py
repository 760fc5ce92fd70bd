"""Qwen2.5-Coder-0.5B-Instruct on llama.cpp, for real: answers from the prompt's facts, calls a
tool with the right arguments through its chat template, and a model file changed by one byte is
refused before it is loaded."""

from __future__ import annotations

import re
import shutil
import time
from pathlib import Path

import pytest

from app.config.agent import ProviderChoice
from app.engine.conversation import Conversation
from app.engine.leaving import caller_is_leaving
from app.engine.transcript import TranscriptLog
from app.providers import llama
from app.providers.base import (
    ChatMessage,
    GenerationOptions,
    LlmEvent,
    ProviderError,
    TextDelta,
    ToolCall,
    ToolSpec,
)
from app.providers.llama.llm import LlamaLanguageModel
from app.providers.llama.model_files import QWEN, qwen_path
from app.providers.registry import ProviderRegistry
from app.settings import Settings

pytestmark = pytest.mark.models

RECEPTIONIST = (
    "You are Ava, the receptionist of Brightsmile Dental. Answer in one or two short sentences, "
    "only from these facts. Hours: Monday to Friday 8 am to 6 pm, Saturday 9 am to 1 pm, closed "
    "on Sunday. Address: 12 Oak Street, Springfield. A cleaning costs 95 dollars. To book, ask "
    "for the caller's full name and preferred day; when you have both, call book_appointment. "
    "When the caller says goodbye, call end_call."
)
TOOLS = [
    ToolSpec(
        "end_call",
        "End the call once the conversation is finished and you have said goodbye.",
        {"type": "object", "properties": {}, "required": []},
    ),
    ToolSpec(
        "book_appointment",
        "Book a dental appointment for the caller.",
        {
            "type": "object",
            "properties": {
                "name": {"type": "string", "description": "the caller's full name"},
                "day": {"type": "string", "description": "the day of the week"},
            },
            "required": ["name", "day"],
        },
    ),
]
GREEDY = GenerationOptions(temperature=0.0, max_tokens=80)


@pytest.fixture(scope="module")
def qwen() -> LlamaLanguageModel:
    return LlamaLanguageModel(QWEN, qwen_path(Settings().models_dir), calls_tools=True)


async def _turn(
    llm: LlamaLanguageModel, question: str, tools: list[ToolSpec]
) -> tuple[str, list[ToolCall], float]:
    messages = [ChatMessage("system", RECEPTIONIST), ChatMessage("user", question)]
    started = time.perf_counter()
    first: float | None = None
    events: list[LlmEvent] = []
    async for event in llm.stream(messages, tools, GREEDY):
        first = first if first is not None else time.perf_counter() - started
        events.append(event)
    text = "".join(e.text for e in events if isinstance(e, TextDelta))
    return text, [e for e in events if isinstance(e, ToolCall)], first or 0.0


def _words(text: str) -> set[str]:
    return set(re.findall(r"[a-z0-9]+", text.lower()))


async def test_answers_a_fact_from_the_prompt_with_tools_offered(qwen: LlamaLanguageModel) -> None:
    await _turn(qwen, "Hello?", TOOLS)  # the agent's first turn: its prompt is cached

    text, calls, first_s = await _turn(qwen, "How much does a cleaning cost?", TOOLS)

    print(f"\nqwen: warm first token {first_s * 1000:.0f} ms: {text!r}")
    assert calls == []
    assert "95" in _words(text)
    assert first_s < 2.0  # generous: the bench measures it (≤ 150 ms on a quiet machine)


async def test_answers_the_address_without_tools(qwen: LlamaLanguageModel) -> None:
    text, _, _ = await _turn(qwen, "What is your address?", [])

    assert {"12", "oak"} <= _words(text), text


async def test_calls_the_booking_tool_with_the_callers_name_and_day(
    qwen: LlamaLanguageModel,
) -> None:
    text, calls, _ = await _turn(
        qwen, "Book me a cleaning on Tuesday, my name is John Smith.", TOOLS
    )

    assert [call.name for call in calls] == ["book_appointment"], text
    assert "john smith" in str(calls[0].arguments.get("name", "")).lower()
    assert "tuesday" in str(calls[0].arguments.get("day", "")).lower()
    assert "<tool_call>" not in text
    assert '"name"' not in text


async def test_the_tool_result_is_read_and_answered_in_words(qwen: LlamaLanguageModel) -> None:
    call = ToolCall("call_1", "book_appointment", {"name": "John Smith", "day": "Tuesday"})
    messages = [
        ChatMessage("system", RECEPTIONIST),
        ChatMessage("user", "Book me a cleaning on Tuesday, my name is John Smith."),
        ChatMessage("assistant", "", tool_calls=(call,)),
        ChatMessage("tool", '{"booked": true, "time": "10 am"}', tool_call_id="call_1"),
    ]

    events = [event async for event in qwen.stream(messages, TOOLS, GREEDY)]

    text = "".join(e.text for e in events if isinstance(e, TextDelta))
    assert not [e for e in events if isinstance(e, ToolCall)]
    assert _words(text) & {"booked", "book", "scheduled", "confirmed", "appointment", "10"}


def test_a_model_file_changed_by_one_byte_is_refused_at_start_up(tmp_path: Path) -> None:
    tampered = tmp_path / QWEN.file_name
    shutil.copyfile(qwen_path(Settings().models_dir), tampered)
    with tampered.open("r+b") as file:
        file.seek(tampered.stat().st_size // 2)
        byte = file.read(1)
        file.seek(-1, 1)
        file.write(bytes([byte[0] ^ 0x01]))

    with pytest.raises(ProviderError, match=r"refusing to load .* SHA-256"):
        LlamaLanguageModel(QWEN, tampered, calls_tools=True)

    # What the service does at start-up: load the default providers and report each refusal.
    registry = ProviderRegistry()
    llama.register(registry, Settings(models_dir=tmp_path))
    errors = registry.preload(ProviderChoice(llm="qwen"))
    refusals = [error for error in errors if error.startswith("llm")]
    assert len(refusals) == 1
    assert "refusing to load" in refusals[0]
    assert QWEN.sha256 in refusals[0]


@pytest.mark.parametrize(
    ("words", "leaving"),
    [
        ("I'd like to book an appointment.", False),
        ("I want to sign up for the Fast plan.", False),
        ("I want to book an oil change.", False),
        ("Thanks, that's all I needed. Goodbye!", True),
        ("Okay, bye now.", True),
    ],
)
async def test_the_hang_up_check_tells_a_request_from_a_goodbye(
    qwen: LlamaLanguageModel, words: str, leaving: bool
) -> None:
    # The three requests are the evaluation's questions on which Qwen called `end_call`.
    conversation = Conversation(RECEPTIONIST)
    conversation.add_user(words)
    log = TranscriptLog(started=time.monotonic())

    assert await caller_is_leaving(qwen, conversation, log) is leaving
    assert [e.kind for e in log.events] == ([] if leaving else ["end_call_refused"])


async def test_a_prompt_read_ahead_is_cached_for_the_first_turn(qwen: LlamaLanguageModel) -> None:
    # A prompt this model has not seen in this session (the cache is keyed by its tokens).
    system = [ChatMessage("system", RECEPTIONIST + " Parking is free behind the building.")]
    system_tokens, _ = qwen._prompt.tokens(system, TOOLS, 80, 4096)
    cache = qwen.prefix_cache
    assert cache is not None
    assert cache.best_match(system_tokens)[1] < len(system_tokens)

    await qwen.prefill(system, TOOLS)

    saved, shared = cache.best_match(system_tokens)
    assert saved is not None
    assert saved.is_system_prompt
    assert shared == len(system_tokens) > 200
