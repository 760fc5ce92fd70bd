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

from app.engine.audio_format import ENGINE_SAMPLE_RATE, AudioFormat
from app.providers.piper_tts import PiperTextToSpeech
from app.providers.registry import ProviderRegistry
from app.providers.whisper_stt import WhisperSpeechToText
from telephony.audio import StreamingResampler, mulaw_to_pcm16
from tests.e2e.voice_service import RunningService, running_service
from tests.models.dental_agent import dental_agent
from tests.models.spoken import speak
from tests.twilio_caller import ReceivedMedia, TwilioCaller

pytestmark = pytest.mark.models


@pytest.fixture
def service(tmp_path: Path, registry: ProviderRegistry) -> Iterator[RunningService]:
    with running_service(tmp_path, config=dental_agent(), registry=registry) as running:
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
    interruption = speak("Sorry can I book a cleaning for Tuesday morning?")
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
    assert any(w.startswith(("book", "clean", "tuesday")) for w in words(said)), said
    assert any(t["interrupted"] for t in body["transcript"] if t["role"] == "agent")

    # What the caller heard from the agent, transcribed back: English words. Each utterance is
    # transcribed on its own: Whisper tiny, given the greeting, a cut-off answer and the reply
    # joined end to end, sometimes returns only the first word.
    stt = registry.stt.get("whisper")
    assert isinstance(stt, WhisperSpeechToText)
    cleared_at = caller.clears[0]
    greeting = await heard_words(stt, caller.media[:answered_from])
    assert len(greeting) >= 5, greeting
    assert {"acme", "dental", "help", "hello"} & set(greeting), greeting
    reply = await heard_words(stt, [m for m in caller.media if m.at > cleared_at])
    assert len(reply) >= 3, reply


async def heard_words(stt: WhisperSpeechToText, media: list[ReceivedMedia]) -> list[str]:
    """The words Whisper hears in `media` (agent audio as the caller received it)."""
    heard = mulaw_to_pcm16(b"".join(item.mulaw for item in media))
    up = StreamingResampler(8000, ENGINE_SAMPLE_RATE)
    transcript = await stt.transcribe(up.resample_chunk(heard) + up.flush(), "en")
    return words(transcript.text)
