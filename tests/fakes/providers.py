"""Test doubles that behave like real streaming providers, with delays and failures to order.

- `ScriptedSpeechToText` hears audio level like a recognizer hears speech: interims grow while
  the caller talks, a final arrives shortly after each pause, taken from a script.
- `ScriptedLanguageModel` streams a reply word by word after a first-token delay, then tool
  calls; it records every request so tests can assert what the LLM was shown.
- `ToneTextToSpeech` speaks a tone whose length follows the text, in 22.05 kHz PCM16 (as Piper
  does), so the transport's resampling and mu-law encoding are exercised.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import numpy as np

from app.audio.formats import AudioChunk, AudioFormat
from app.audio.levels import pcm16_dbfs
from app.providers.base import (
    ChatMessage,
    GenerationOptions,
    LlmEvent,
    ProviderError,
    TextDelta,
    ToolCall,
    ToolSpec,
    Transcript,
)

SPEECH_LEVEL_DBFS = -40.0


class ScriptedSttStream:
    def __init__(self, owner: ScriptedSpeechToText) -> None:
        self._owner = owner
        self._queue: asyncio.Queue[Transcript | None] = asyncio.Queue()
        self._speech_frames = 0
        self._pending: list[asyncio.Task[None]] = []

    async def push_audio(self, frame: bytes) -> None:
        if pcm16_dbfs(frame) < SPEECH_LEVEL_DBFS:
            return
        self._speech_frames += 1
        every = max(1, int(self._owner.interim_every_s * 50))
        if self._speech_frames % every == 0:
            words = self._owner.peek().split()
            shown = min(len(words), self._speech_frames // every)
            self._queue.put_nowait(Transcript(" ".join(words[:shown]), is_final=False))

    async def finalize(self) -> None:
        heard_words = self._speech_frames >= 5
        self._speech_frames = 0
        text = self._owner.take() if heard_words else ""
        self._pending.append(asyncio.create_task(self._emit_final(text)))

    async def _emit_final(self, text: str) -> None:
        await asyncio.sleep(self._owner.final_delay_s)
        self._queue.put_nowait(Transcript(text, is_final=True, confidence=0.9))

    async def transcripts(self) -> AsyncIterator[Transcript]:
        while (item := await self._queue.get()) is not None:
            yield item

    async def aclose(self) -> None:
        for task in self._pending:
            task.cancel()
        self._queue.put_nowait(None)
        self._owner.closed_streams += 1


class ScriptedSpeechToText:
    name = "scripted"

    def __init__(
        self,
        utterances: list[str],
        *,
        final_delay_s: float = 0.08,
        interim_every_s: float = 0.3,
    ) -> None:
        self.utterances = list(utterances)
        self.final_delay_s = final_delay_s
        self.interim_every_s = interim_every_s
        self.streams: list[ScriptedSttStream] = []
        self.closed_streams = 0
        # The language each stream was opened for, in order.
        self.languages: list[str] = []

    def peek(self) -> str:
        return self.utterances[0] if self.utterances else "something"

    def take(self) -> str:
        return self.utterances.pop(0) if self.utterances else "something"

    async def open_stream(self, language: str) -> ScriptedSttStream:
        stream = ScriptedSttStream(self)
        self.streams.append(stream)
        self.languages.append(language)
        return stream


Reply = str | list[LlmEvent]


@dataclass
class ScriptedLanguageModel:
    reply: Callable[[list[ChatMessage]], Reply]
    first_token_delay_s: float = 0.05
    token_delay_s: float = 0.005
    fail_after_tokens: int | None = None
    hang: bool = False
    name: str = "scripted"
    requests: list[list[ChatMessage]] = field(default_factory=list)

    async def stream(
        self, messages: list[ChatMessage], tools: list[ToolSpec], options: GenerationOptions
    ) -> AsyncIterator[LlmEvent]:
        self.requests.append(list(messages))
        reply = self.reply(messages)
        events: list[LlmEvent] = (
            [TextDelta(word + " ") for word in reply.split()] if isinstance(reply, str) else reply
        )
        await asyncio.sleep(self.first_token_delay_s)
        if self.hang:
            await asyncio.Event().wait()
        for count, event in enumerate(events):
            if self.fail_after_tokens is not None and count >= self.fail_after_tokens:
                raise ProviderError(self.name, "stream reset by peer")
            yield event
            await asyncio.sleep(self.token_delay_s)


def tool_call(name: str, **arguments: str) -> ToolCall:
    return ToolCall(id=f"call_{name}", name=name, arguments=dict(arguments))


@dataclass
class ToneTextToSpeech:
    ms_per_char: float = 45.0
    first_byte_delay_s: float = 0.04
    chunk_ms: int = 100
    frequency_hz: float = 440.0
    fail_on: str | None = None
    name: str = "tone"
    spoken: list[str] = field(default_factory=list)
    # The voice each spoken text was said in (`spoken`'s order).
    voices: list[str] = field(default_factory=list)

    FORMAT = AudioFormat("pcm16", 22050)

    def output_format(self, preferred: AudioFormat) -> AudioFormat:
        return self.FORMAT

    async def synthesize(
        self, text: str, voice_id: str, audio_format: AudioFormat
    ) -> AsyncIterator[AudioChunk]:
        await asyncio.sleep(self.first_byte_delay_s)
        if self.fail_on is not None and self.fail_on in text:
            raise ProviderError(self.name, "voice service returned 500")
        self.spoken.append(text)
        self.voices.append(voice_id)
        rate = self.FORMAT.sample_rate
        total = int(rate * len(text) * self.ms_per_char / 1000)
        step = rate * self.chunk_ms // 1000
        for start in range(0, total, step):
            n = np.arange(start, min(total, start + step))
            wave = 0.3 * np.sin(2 * math.pi * self.frequency_hz * n / rate)
            yield AudioChunk((wave * 32767).astype("<i2").tobytes(), self.FORMAT)
            await asyncio.sleep(0)
