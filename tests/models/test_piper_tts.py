"""Piper with the joe voice, for real: format, duration, loudness, first-audio latency, cancel."""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator
from typing import cast

import numpy as np
import pytest

from app.audio.formats import MULAW_8K, PCM16_16K, AudioChunk, AudioFormat
from app.providers.base import ProviderError, TextToSpeech
from app.providers.piper.tts import PiperTextToSpeech

pytestmark = pytest.mark.models

SENTENCE = "Your appointment is confirmed for Tuesday morning at nine."
LONG_REPLY = " ".join(
    [
        "Thanks for calling the clinic today.",
        "I can see three open slots next week.",
        "The first one is on Monday at ten in the morning.",
        "The second one is on Wednesday just after lunch.",
        "The last one is on Friday at four in the afternoon.",
        "Which of these would suit you best?",
    ]
)


@pytest.fixture(scope="module")
def tts() -> PiperTextToSpeech:
    return PiperTextToSpeech()


async def _speak(tts: PiperTextToSpeech, text: str) -> tuple[bytes, float, float]:
    """The audio, the seconds to its first chunk, and the seconds to the whole of it."""
    started = time.perf_counter()
    first: float | None = None
    audio = b""
    async for chunk in tts.synthesize(text, "any-voice", tts.output_format(PCM16_16K)):
        first = first or time.perf_counter() - started
        assert chunk.format == AudioFormat("pcm16", 22050)
        audio += chunk.data
    assert first is not None
    return audio, first, time.perf_counter() - started


def test_piper_satisfies_the_text_to_speech_protocol(tts: PiperTextToSpeech) -> None:
    assert isinstance(tts, TextToSpeech)


def test_output_format_is_native_22khz_pcm16_whatever_is_preferred(
    tts: PiperTextToSpeech,
) -> None:
    assert tts.output_format(MULAW_8K) == AudioFormat("pcm16", 22050)
    assert tts.output_format(PCM16_16K) == AudioFormat("pcm16", 22050)


async def test_sentence_becomes_non_silent_speech_of_plausible_duration(
    tts: PiperTextToSpeech,
) -> None:
    audio, first_s, total_s = await _speak(tts, SENTENCE)

    seconds = tts.format.duration_ms(len(audio)) / 1000
    samples = np.frombuffer(audio, dtype="<i2").astype(np.float32) / 32768
    rms_dbfs = 20 * np.log10(np.sqrt(np.mean(samples**2)))
    print(f"\npiper: first audio {first_s * 1000:.0f} ms, RTF {total_s / seconds:.3f}")
    assert len(audio) % 2 == 0
    assert 2.0 < seconds < 6.0  # ten words at a telephone pace
    assert rms_dbfs > -30.0
    assert np.max(np.abs(samples)) > 0.3
    assert total_s < seconds  # faster than real time, or playout would starve


async def test_first_sentence_streams_out_before_the_rest_is_synthesized(
    tts: PiperTextToSpeech,
) -> None:
    started = time.perf_counter()
    arrivals: list[float] = []
    async for _ in tts.synthesize(LONG_REPLY, "joe", tts.format):
        arrivals.append(time.perf_counter() - started)

    print(f"\npiper: first of {len(arrivals)} sentences after {arrivals[0] * 1000:.0f} ms")
    assert len(arrivals) == 6
    assert arrivals[0] < arrivals[-1] / 3
    assert arrivals[0] < 1.5


async def test_closing_the_stream_stops_synthesis_at_the_next_sentence(
    tts: PiperTextToSpeech,
) -> None:
    _, _, full_reply_s = await _speak(tts, LONG_REPLY)
    cancelled_before = tts.sentences_cancelled
    stream = cast(AsyncGenerator[AudioChunk, None], tts.synthesize(LONG_REPLY, "joe", tts.format))

    await anext(stream)
    await stream.aclose()
    _, next_first_s, _ = await _speak(tts, "Yes.")

    # The next request waits for at most the sentence in progress, not the rest of the reply.
    assert next_first_s < full_reply_s / 2
    assert tts.sentences_cancelled == cancelled_before + 1


async def test_asking_for_a_format_the_voice_cannot_make_raises_provider_error(
    tts: PiperTextToSpeech,
) -> None:
    with pytest.raises(ProviderError, match="output_format"):
        async for _ in tts.synthesize(SENTENCE, "joe", MULAW_8K):
            pass
