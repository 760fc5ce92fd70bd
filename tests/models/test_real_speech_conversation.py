"""A web conversation on the offline stack, through the official `elevenlabs` SDK.

Real speech goes in through the SDK's audio interface; Silero, Whisper, SmolLM2 and Piper do the
rest; the SDK hears the agent, and what it heard is English the Whisper model can read back.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from elevenlabs import ElevenLabs
from elevenlabs.conversational_ai.conversation import AsyncConversation

from app.providers.registry import ProviderRegistry
from app.providers.whisper.stt import WhisperSpeechToText
from tests.e2e.sdk_audio import RecordingAsyncAudio
from tests.e2e.voice_service import RunningService, running_service
from tests.models.dental_agent import dental_agent
from tests.models.spoken import speak

pytestmark = pytest.mark.models


@pytest.fixture
def service(tmp_path: Path, registry: ProviderRegistry) -> Iterator[RunningService]:
    with running_service(
        tmp_path, config=dental_agent("Acme Dental web"), registry=registry
    ) as running:
        yield running


def words(text: str) -> list[str]:
    return re.findall(r"[a-z']+", text.lower())


async def until(condition: Callable[[], bool], within_s: float) -> None:
    deadline = time.monotonic() + within_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        await asyncio.sleep(0.1)


async def test_the_sdk_is_understood_and_hears_an_english_answer(
    service: RunningService, registry: ProviderRegistry
) -> None:
    audio = RecordingAsyncAudio()
    user_said: list[str] = []
    agent_said: list[str] = []

    async def on_user(text: str) -> None:
        user_said.append(text)

    async def on_agent(text: str) -> None:
        agent_said.append(text)

    conversation = AsyncConversation(
        ElevenLabs(api_key=service.api_key, base_url=service.base_url),
        service.agent_id,
        requires_auth=False,
        audio_interface=audio,
        callback_user_transcript=on_user,
        callback_agent_response=on_agent,
    )
    await conversation.start_session()
    try:
        await until(lambda: len(agent_said) >= 1, 20)  # the greeting
        await until(lambda: audio.quiet_for(1.0) and len(audio.received) > 0, 20)
        greeting_bytes = len(audio.received)
        await audio.say(speak("What are your opening hours on Saturday?"))
        await until(lambda: len(agent_said) >= 2, 20)
        await until(lambda: audio.quiet_for(1.0) and len(audio.received) > greeting_bytes, 30)
    finally:
        await conversation.end_session()
    await conversation.wait_for_session_end()

    said = " ".join(user_said).lower()
    assert "saturday" in said or "opening hours" in said, user_said
    answer_audio = bytes(audio.received[greeting_bytes:])
    stt = registry.stt.get("whisper")
    assert isinstance(stt, WhisperSpeechToText)
    heard = await stt.transcribe(answer_audio, "en")
    assert len(words(heard.text)) >= 3, heard.text
    assert set(words(heard.text)) & set(words(agent_said[1])), (heard.text, agent_said[1])
