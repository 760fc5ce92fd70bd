"""One agent turn on its way out: LLM tokens → sentences → TTS audio → playout, with timings.

The whole response runs as one task so a barge-in or hang-up cancels exactly this turn's
work: the LLM stream, the TTS stream and the sentences still waiting to be spoken.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

from app.aio import cancel_and_wait
from app.audio.formats import AudioChunk, AudioFormat
from app.engine.playout import Playout
from app.engine.transport import AudioEncoder
from app.engine.voice import CallVoice
from app.providers.base import (
    LlmEvent,
    ProviderError,
    TextDelta,
    ToolCall,
    close_stream,
)
from app.providers.sentences import SentenceAggregator


@dataclass(slots=True)
class ResponseTimings:
    """Wall-clock instants (monotonic seconds) of the stages of one response."""

    llm_started: float | None = None
    llm_first_token: float | None = None
    tts_first_request: float | None = None
    tts_first_byte: float | None = None
    first_frame_sent: float | None = None
    # Which providers served it (a fallback chain may have moved on).
    llm_provider: str | None = None
    tts_provider: str | None = None


@dataclass(slots=True)
class SpokenSentence:
    mark: str
    text: str


@dataclass(slots=True)
class ResponseResult:
    sentences: list[SpokenSentence] = field(default_factory=list)
    tool_calls: list[ToolCall] = field(default_factory=list)
    timings: ResponseTimings = field(default_factory=ResponseTimings)

    @property
    def text(self) -> str:
        return " ".join(s.text for s in self.sentences).strip()

    @property
    def marks(self) -> list[str]:
        return [s.mark for s in self.sentences]


async def fixed_text(text: str) -> AsyncIterator[LlmEvent]:
    """A scripted utterance (greeting, re-prompt) travelling the same path as LLM output."""
    yield TextDelta(text)


class TextOnlyVoice:
    """The voice of a text-only conversation: the agent's words travel as text, never as audio."""

    name = "text_only"

    def output_format(self, preferred: AudioFormat) -> AudioFormat:
        return preferred

    async def synthesize(
        self, text: str, voice_id: str, audio_format: AudioFormat
    ) -> AsyncIterator[AudioChunk]:
        return
        yield


class AgentResponse:
    """Speaks what `events` produce; `result` fills in as it goes, also when cancelled."""

    def __init__(
        self,
        *,
        turn_id: str,
        events: AsyncIterator[LlmEvent],
        voice: CallVoice,
        encoder: AudioEncoder,
        playout: Playout,
        from_llm: bool,
        on_text_complete: Callable[[str], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.turn_id = turn_id
        self.generated_text = ""
        self._on_text_complete = on_text_complete
        self._events = events
        self._voice = voice
        self._encoder = encoder
        self._playout = playout
        self._from_llm = from_llm
        self._clock = clock
        self.result = ResponseResult()
        self._sentences: asyncio.Queue[str | None] = asyncio.Queue()

    async def run(self) -> ResponseResult:
        """Generate, speak and wait until the caller has heard all of it."""
        timings = self.result.timings
        timings.llm_started = self._clock()
        self._playout.expect_first_frame(self._first_frame_sent)
        producer = asyncio.create_task(self._produce_sentences())
        finished = False
        try:
            await self._speak_sentences()
            await producer  # re-raises an LLM failure
            await self._voice.end_turn(self.turn_id)
            finished = True
            await self._playout.wait_played()
        finally:
            if not finished:  # barge-in, hang-up or failure: stop the voice service at once
                with contextlib.suppress(Exception):
                    await self._voice.cancel(self.turn_id)
            if not producer.done():
                await cancel_and_wait(producer)
        return self.result

    def _first_frame_sent(self, at: float) -> None:
        self.result.timings.first_frame_sent = at

    async def _produce_sentences(self) -> None:
        aggregator = SentenceAggregator()
        timings = self.result.timings
        try:
            async for event in self._events:
                if isinstance(event, ToolCall):
                    self.result.tool_calls.append(event)
                    continue
                if self._from_llm and timings.llm_first_token is None and event.text:
                    timings.llm_first_token = self._clock()
                self.generated_text += event.text
                for sentence in aggregator.push(event.text):
                    self._sentences.put_nowait(sentence)
            rest = aggregator.flush()
            if rest:
                self._sentences.put_nowait(rest)
            if self._on_text_complete is not None and self.generated_text.strip():
                self._on_text_complete(self.generated_text.strip())
        finally:
            self._sentences.put_nowait(None)
            await close_stream(self._events)

    async def _speak_sentences(self) -> None:
        timings = self.result.timings
        index = 0
        while (sentence := await self._sentences.get()) is not None:
            if timings.tts_first_request is None:
                timings.tts_first_request = self._clock()
            stream = self._voice.synthesize(sentence, self.turn_id)
            try:
                async for chunk in stream:
                    if timings.tts_first_byte is None:
                        timings.tts_first_byte = self._clock()
                        timings.tts_provider = self._voice.name
                    self._playout.enqueue_audio(self._encoder.encode(chunk))
            except ProviderError:
                raise
            except Exception as error:
                raise ProviderError(self._voice.name, f"synthesis failed: {error!r}") from error
            finally:
                await close_stream(stream)
            self._playout.enqueue_audio(self._encoder.flush())
            mark = f"{self.turn_id}.{index}"
            self._playout.enqueue_mark(mark, sentence)
            self.result.sentences.append(SpokenSentence(mark, sentence))
            index += 1
