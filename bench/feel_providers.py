"""Scripted providers for the conversational-feel benchmark (bench only, never in the product).

- `ScriptedSpeechToText` (one per probe kind, registered as `scripted-<kind>`) hears the kind's
  script (`bench.feel_probes.SCRIPTS`) the way a streaming recognizer hears speech: the words
  come as their audio does (each utterance's words spread over its voiced frames), an interim
  every 300 ms of voiced audio, a final `FINAL_DELAY_S` after the engine asks for one.
- `ScriptedLanguageModel` answers by topic (`bench.feel_probes.answer_to`), word by word, at once.
- `SpokenTextToSpeech` speaks with espeak-ng (cached per sentence), so the agent's voice is speech:
  echoed back, Silero hears it as speech, and a resume has real gaps between words to rewind to.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from functools import lru_cache, partial

from app.audio.formats import PCM16_16K, AudioFormat
from app.audio.levels import pcm16_dbfs
from app.providers.base import ChatMessage, Transcript
from app.providers.registry import ProviderRegistry
from bench.feel_probes import SCRIPTS, Probe, answer_to, spoken, voiced_frames
from bench.instant_providers import InstantLanguageModel, InstantTextToSpeech
from bench.utterances import espeak_pcm16, peak_normalized

SCRIPTED = "scripted"
SPOKEN = "espeak"
VOICED_DBFS = -40.0  # frames at least this loud are heard as (part of) words
INTERIM_EVERY_FRAMES = 15  # an interim every 300 ms of voiced audio
FINAL_DELAY_S = 0.1  # a streaming recognizer's finalize round trip
# Asked for a final this far into an utterance, the recognizer has heard all of it.
HEARD_IN_FULL = 0.8
THEN_FRAMES = 40  # voiced frames that `then` takes to say, each time


def stt_name(probe: Probe) -> str:
    return f"{SCRIPTED}-{probe.value}"


@dataclass(slots=True)
class _Said:
    words: list[str]
    frames: int  # voiced frames it takes the caller to say
    heard: int = 0  # voiced frames of it heard so far


class ScriptedSttStream:
    """Hears the script's words as they are said: an utterance's words are spread evenly over
    its voiced frames, so a final has exactly the words said since the last one, however the
    VAD happens to split the caller's speech."""

    def __init__(self, said: list[_Said], then: str) -> None:
        self._said = said
        self._then = then
        self._queue: asyncio.Queue[Transcript | None] = asyncio.Queue()
        self._run: list[str] = []  # words heard since the last final
        self._voiced = 0
        self._pending: set[asyncio.Task[None]] = set()

    def _current(self) -> _Said:
        if not self._said:
            self._said.append(_Said(self._then.split(), THEN_FRAMES))
        return self._said[0]

    def _hear_through(self, said: _Said, frames: int) -> None:
        due = len(said.words) * frames // said.frames if said.frames else len(said.words)
        already = len(said.words) * said.heard // said.frames if said.frames else 0
        self._run.extend(said.words[already:due])
        said.heard = frames

    async def push_audio(self, frame: bytes) -> None:
        if pcm16_dbfs(frame) < VOICED_DBFS:
            return
        said = self._current()
        self._hear_through(said, said.heard + 1)
        if said.heard >= said.frames:
            self._said.pop(0)
        self._voiced += 1
        if self._voiced % INTERIM_EVERY_FRAMES == 0 and self._run:
            self._queue.put_nowait(Transcript(" ".join(self._run), is_final=False))

    async def finalize(self) -> None:
        if self._said and self._said[0].heard >= HEARD_IN_FULL * self._said[0].frames:
            said = self._said.pop(0)
            self._hear_through(said, said.frames)
        text, self._run, self._voiced = " ".join(self._run), [], 0
        task = asyncio.create_task(self._emit_final(text))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _emit_final(self, text: str) -> None:
        await asyncio.sleep(FINAL_DELAY_S)
        self._queue.put_nowait(Transcript(text, is_final=True, confidence=0.9))

    async def transcripts(self) -> AsyncIterator[Transcript]:
        while (item := await self._queue.get()) is not None:
            yield item

    async def aclose(self) -> None:
        for task in list(self._pending):
            task.cancel()
        self._queue.put_nowait(None)


class ScriptedSpeechToText:
    def __init__(self, probe: Probe) -> None:
        self.name = stt_name(probe)
        self._script = SCRIPTS[probe]
        self._frames = [voiced_frames(spoken(text), VOICED_DBFS) for text in self._script.said]

    async def open_stream(self, language: str) -> ScriptedSttStream:
        said = [
            _Said(text.split(), frames)
            for text, frames in zip(self._script.said, self._frames, strict=True)
        ]
        return ScriptedSttStream(said, self._script.then)


class ScriptedLanguageModel(InstantLanguageModel):
    name = SCRIPTED

    def reply(self, messages: list[ChatMessage]) -> str:
        return answer_to(messages[-1].content)


@lru_cache(maxsize=64)
def _voice(text: str) -> bytes:
    return peak_normalized(espeak_pcm16(text)) if text else b""


class SpokenTextToSpeech(InstantTextToSpeech):
    name = SPOKEN

    def output_format(self, preferred: AudioFormat) -> AudioFormat:
        return PCM16_16K

    async def audio(self, text: str, audio_format: AudioFormat) -> bytes:
        return await asyncio.to_thread(_voice, text.strip())


def register_feel_providers(registry: ProviderRegistry) -> None:
    for probe in Probe:
        registry.stt.register(stt_name(probe), partial(ScriptedSpeechToText, probe))
    registry.llm.register(SCRIPTED, ScriptedLanguageModel)
    registry.tts.register(SPOKEN, SpokenTextToSpeech)
