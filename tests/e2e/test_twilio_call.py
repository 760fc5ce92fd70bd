"""A whole phone call through the real Media Streams endpoint, as Twilio would place it."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from app.config.agent import AgentConfig
from app.providers.base import ChatMessage
from tests.audio_samples import speech_like
from tests.e2e.voice_service import VoiceService, voice_service
from tests.fakes.providers import ScriptedLanguageModel, ScriptedSpeechToText, ToneTextToSpeech
from tests.twilio_caller import TwilioCaller

pytestmark = pytest.mark.e2e

GREETING = "Hi, thanks for calling Acme."
ANSWER = (
    "We open at nine in the morning on weekdays. "
    "On Saturdays we open at ten and close at two. "
    "We are closed on Sundays and on public holidays. "
    "You can also book online at any time of the day."
)


def opening_hours(messages: list[ChatMessage]) -> str:
    last = messages[-1].content.lower()
    if "hours" in last:
        return ANSWER
    return "Sure, happy to help with that."


def agent_config() -> AgentConfig:
    config = AgentConfig(name="Front desk")
    config.conversation_config.agent.first_message = GREETING
    config.conversation_config.agent.prompt.prompt = (
        "You answer for Acme. Caller: {{system__caller_id}}"
    )
    return config


async def speak(caller: TwilioCaller, seconds: float) -> None:
    await caller.play(speech_like(seconds))


@pytest.fixture
def service(tmp_path: Path):  # type: ignore[no-untyped-def]
    stt = ScriptedSpeechToText(["What are your opening hours?", "Do you open on Sundays?"])
    llm = ScriptedLanguageModel(opening_hours)
    with voice_service(
        tmp_path, config=agent_config(), stt=stt, llm=llm, tts=ToneTextToSpeech()
    ) as running:
        yield running


@pytest.mark.timing
async def test_greeting_answer_and_barge_in_are_heard_and_saved(service: VoiceService) -> None:
    stream_url, parameters = service.dial()
    conversation_id = parameters["conversation_id"]
    async with TwilioCaller(
        stream_url,
        custom_parameters=parameters,
        headers=service.stream_headers(stream_url),
    ) as caller:
        # The greeting plays while the caller listens.
        await caller.silence(0.3)
        await caller.wait_for_audio(timeout=3)
        greeting_frames = asyncio.create_task(caller.silence(3.0))
        await caller.wait_until_quiet(silence_s=0.3, timeout=5)
        await greeting_frames
        greeting_marks = [m for m in caller.marks_echoed if not m.cleared]
        assert greeting_marks, "the greeting's mark should come back once it played"

        # The caller asks; the agent answers within a human pause.
        heard_before = len(caller.media)
        await speak(caller, 1.0)
        asked_at = time.monotonic()
        listening = asyncio.create_task(caller.silence(2.5))
        await caller.wait_for(lambda: len(caller.media) > heard_before, timeout=3)
        answer_started = caller.media[heard_before].at
        assert answer_started - asked_at < 1.5
        await listening  # 2.5 s of the answer plays: the first sentence is heard in full

        # The caller cuts in; the agent stops at once.
        await speak(caller, 0.8)
        await caller.wait_for_clear(timeout=2)
        cut_at = caller.clears[0]
        await caller.silence(2.5)  # the agent answers the interruption
        late_audio = [m for m in caller.media if m.at > cut_at + 0.05]
        assert late_audio, "the agent answers what the caller said when they cut in"

    body = service.ended_conversation(conversation_id)
    transcript = body["transcript"]
    roles = [(t["role"], t["interrupted"]) for t in transcript]
    assert roles[:4] == [("agent", False), ("user", False), ("agent", True), ("user", False)]
    assert transcript[0]["message"] == GREETING
    assert transcript[1]["message"] == "What are your opening hours?"
    heard = transcript[2]["message"]
    assert heard.startswith("We open at nine in the morning on weekdays.")
    assert heard != ANSWER
    assert ANSWER.startswith(heard)
    assert transcript[3]["message"] == "Do you open on Sundays?"
    assert body["status"] == "done"
    assert body["metadata"]["termination_reason"] == "caller_hung_up"
    latency = transcript[1]["velox_metrics"]
    assert latency["voice_to_voice_ms"] is not None
    assert latency["voice_to_voice_ms"] > 0
    assert latency["llm_first_token_ms"] is not None
    # What the LLM saw next holds only what the caller heard of the interrupted answer.
    later_request = service.llm.requests[-1]
    assert any(m.role == "assistant" and m.content == heard for m in later_request)
    assert "+15552223333" in later_request[0].content
