"""A phone call with real speech through the offline stack: Silero, Whisper, SmolLM2, Piper.

The callers are real voices (Piper, and espeak-ng as a second voice), degraded to 8 kHz
mu-law by the Twilio-protocol client exactly as a phone line would, and played in real time.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.agent_config import AgentConfig
from app.engine.audio_format import ENGINE_SAMPLE_RATE, AudioFormat
from app.providers.builtin import register_builtin_providers
from app.providers.piper_tts import PiperTextToSpeech
from app.providers.registry import ProviderRegistry
from app.providers.whisper_stt import WhisperSpeechToText
from app.settings import Settings
from telephony.audio import StreamingResampler, mulaw_to_pcm16
from tests.e2e.voice_service import RunningService, running_service
from tests.models.spoken import speak
from tests.twilio_caller import TwilioCaller

pytestmark = pytest.mark.models

PROMPT = (
    "You are the receptionist of Acme Dental. We are open Monday to Friday from 9 am to 5 pm "
    "and on Saturday from 10 am to 2 pm. Answer in one or two short sentences."
)


@pytest.fixture(scope="module")
def registry() -> ProviderRegistry:
    providers = ProviderRegistry()
    register_builtin_providers(providers, Settings())
    return providers


@pytest.fixture
def service(tmp_path: Path, registry: ProviderRegistry) -> Iterator[RunningService]:
    config = AgentConfig(name="Acme Dental")
    config.conversation_config.agent.first_message = "Hello, Acme Dental, how can I help?"
    config.conversation_config.agent.prompt.prompt = PROMPT
    with running_service(tmp_path, config=config, registry=registry) as running:
        yield running


async def piper_voice(registry: ProviderRegistry, text: str) -> bytes:
    """`text` in Piper's voice as PCM16 16 kHz (the caller's side of the line)."""
    tts = registry.tts.get("piper")
    assert isinstance(tts, PiperTextToSpeech)
    native: AudioFormat = tts.output_format(tts.format)
    resampler = StreamingResampler(native.sample_rate, ENGINE_SAMPLE_RATE)
    audio = b""
    async for chunk in tts.synthesize(text, "default", native):
        audio += resampler.resample_chunk(chunk.data)
    return audio + resampler.flush()


def words(text: str) -> list[str]:
    return re.findall(r"[a-z']+", text.lower())


async def test_a_real_caller_is_understood_answered_in_english_and_can_barge_in(
    service: RunningService, registry: ProviderRegistry
) -> None:
    question = await piper_voice(registry, "What are your opening hours on Saturday?")
    interruption = speak("Sorry, can I book a cleaning for Tuesday morning?")
    stream_url, parameters = service.dial()
    async with TwilioCaller(
        stream_url, custom_parameters=parameters, headers=service.stream_headers(stream_url)
    ) as caller:
        await caller.silence(0.3)
        await caller.wait_for_audio(timeout=20)
        await caller.silence(3.5)  # the greeting plays

        answered_from = len(caller.media)
        await caller.play(question)
        listening = asyncio.create_task(caller.silence(15.0))
        try:  # half a second of the answer reaches the caller
            await caller.wait_for(lambda: len(caller.media) > answered_from + 25, timeout=15)
        finally:
            listening.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await listening

        await caller.play(interruption)  # cuts in while the answer plays
        await caller.wait_for_clear(timeout=5)
        await caller.silence(6.0)

    body = service.ended_conversation(parameters["conversation_id"], timeout=20)
    user_turns = [t["message"] for t in body["transcript"] if t["role"] == "user"]
    assert user_turns, body["transcript"]
    said = " ".join(user_turns).lower()
    assert "saturday" in said or "opening hours" in said
    assert {"book", "cleaning", "tuesday"} & set(words(said))
    assert any(t["interrupted"] for t in body["transcript"] if t["role"] == "agent")

    # What the caller heard from the agent, transcribed back: English words.
    heard = mulaw_to_pcm16(caller.received_audio())
    up = StreamingResampler(8000, ENGINE_SAMPLE_RATE)
    stt = registry.stt.get("whisper")
    assert isinstance(stt, WhisperSpeechToText)
    transcript = await stt.transcribe(up.resample_chunk(heard) + up.flush(), "en")
    heard_words = words(transcript.text)
    assert len(heard_words) >= 5, transcript.text
    assert {"acme", "dental", "help", "hello"} & set(heard_words), transcript.text
