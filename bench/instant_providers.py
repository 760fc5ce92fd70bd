"""Providers that answer instantly, so a benchmark measures the engine and not the models.

- `InstantSpeechToText` emits a fixed final transcript the moment the engine asks for one
  (`finalize()`, when the caller pauses), ending in "?" so the agent's "complete" end-of-turn
  window is the one that applies.
- `InstantLanguageModel` streams a fixed three-sentence reply, word by word, with no delay.
- `InstantTextToSpeech` returns 1.5 s of a 440 Hz tone per sentence at once, in the transport's
  own format (mu-law 8 kHz for a phone call) so nothing is resampled, as a good TTS would.

They live here, not in the product: they exist only to be measured against.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from functools import cache

import numpy as np

from app.audio.formats import AudioChunk, AudioFormat
from app.providers.base import (
    ChatMessage,
    GenerationOptions,
    LlmEvent,
    TextDelta,
    ToolSpec,
    Transcript,
)
from app.providers.registry import ProviderRegistry
from telephony.audio import pcm16_to_alaw, pcm16_to_mulaw

TRANSCRIPT = "What are your opening hours on Saturday?"
REPLY = (
    "We are open from nine in the morning. "
    "On Saturdays we close at one in the afternoon. "
    "Is there anything else I can help you with?"
)
SENTENCE_SECONDS = 1.5
TONE_HZ = 440.0
TONE_AMPLITUDE = 0.3
NAME = "instant"


class InstantSttStream:
    """Ignores the audio; every `finalize()` yields the fixed transcript at once."""

    def __init__(self) -> None:
        self._queue: asyncio.Queue[Transcript | None] = asyncio.Queue()

    async def push_audio(self, frame: bytes) -> None:
        return None

    async def finalize(self) -> None:
        self._queue.put_nowait(Transcript(TRANSCRIPT, is_final=True, confidence=1.0))

    async def transcripts(self) -> AsyncIterator[Transcript]:
        while (item := await self._queue.get()) is not None:
            yield item

    async def aclose(self) -> None:
        self._queue.put_nowait(None)


class InstantSpeechToText:
    name = NAME

    async def open_stream(self, language: str) -> InstantSttStream:
        return InstantSttStream()


class InstantLanguageModel:
    name = NAME

    async def stream(
        self, messages: list[ChatMessage], tools: list[ToolSpec], options: GenerationOptions
    ) -> AsyncIterator[LlmEvent]:
        for word in self.reply(messages).split(" "):
            yield TextDelta(word + " ")

    def reply(self, messages: list[ChatMessage]) -> str:
        return REPLY


@cache
def tone(audio_format: AudioFormat, seconds: float = SENTENCE_SECONDS) -> bytes:
    """`seconds` of the 440 Hz tone in `audio_format` (pcm16 at any rate, or G.711 at 8 kHz)."""
    rate = audio_format.sample_rate
    t = np.arange(round(seconds * rate)) / rate
    pcm16 = (TONE_AMPLITUDE * 32767 * np.sin(2 * np.pi * TONE_HZ * t)).astype("<i2").tobytes()
    if audio_format.encoding == "mulaw":
        return pcm16_to_mulaw(pcm16)
    if audio_format.encoding == "alaw":
        return pcm16_to_alaw(pcm16)
    return pcm16


class InstantTextToSpeech:
    name = NAME

    def output_format(self, preferred: AudioFormat) -> AudioFormat:
        return preferred

    async def synthesize(
        self, text: str, voice_id: str, audio_format: AudioFormat
    ) -> AsyncIterator[AudioChunk]:
        yield AudioChunk(await self.audio(text, audio_format), audio_format)

    async def audio(self, text: str, audio_format: AudioFormat) -> bytes:
        return tone(audio_format)


def register_instant_providers(registry: ProviderRegistry) -> None:
    registry.stt.register(NAME, InstantSpeechToText)
    registry.llm.register(NAME, InstantLanguageModel)
    registry.tts.register(NAME, InstantTextToSpeech)
