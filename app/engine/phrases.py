"""Audio of the agent's fixed lines (greeting, re-prompt, goodbye), synthesized once and reused.

A greeting that waits on TTS costs the caller a pause at "hello"; from the cache its first
frame leaves as soon as the stream starts. Keys hold the TTS, voice, format and exact text,
so a changed first message or voice is simply a new entry; the oldest entries are evicted.

Calls that miss the same phrase at once (a campaign's calls answered together, after the
greeting changed) share one synthesis, a `_Flight`: each hears its audio as it is made, from
the start, and the phrase is synthesized to its end and kept even if every one of them hangs up
or talks over it first. Without it, a hundred such calls asked the voice a hundred times, and
on the offline voice (one synthesis at a time) the last greeting waited for all the others.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import logging
import os
from collections import OrderedDict
from collections.abc import AsyncIterator
from pathlib import Path

from app.audio.formats import AudioChunk, AudioFormat
from app.providers.base import ProviderError, TextToSpeech, close_stream
from app.providers.sentences import split_sentences

log = logging.getLogger(__name__)

PhraseKey = tuple[str, str, AudioFormat, str]

# Numbers this process's partial files: a phrase written again while it is being written (it
# was evicted from memory meanwhile) goes to a file of its own.
_WRITES = itertools.count()


class PhraseCache:
    """Shared by every call on this node: in memory, and on disk when given a directory, so
    that worker processes share what any of them synthesized (the webhook that warms a
    greeting and the stream that plays it may land on different workers)."""

    def __init__(self, max_phrases: int = 512, directory: Path | None = None) -> None:
        self._max = max_phrases
        self._directory = directory
        self._audio: OrderedDict[PhraseKey, tuple[AudioChunk, ...]] = OrderedDict()
        self._warming: set[asyncio.Task[None]] = set()
        self._flights: dict[PhraseKey, _Flight] = {}
        self.hits = 0
        self.misses = 0  # phrases synthesized because nobody held them
        self.shared = 0  # misses that joined a synthesis already under way

    def voice(self, tts: TextToSpeech) -> CachedVoice:
        """`tts` seen through the cache: a drop-in `TextToSpeech` for fixed lines."""
        return CachedVoice(tts, self)

    def in_flight(self) -> int:
        """Syntheses still running here, a phrase's write to disk included."""
        return len(self._warming)

    def lookup(self, key: PhraseKey) -> tuple[AudioChunk, ...] | None:
        """The phrase if this process holds it (memory only: safe on the event loop)."""
        audio = self._audio.get(key)
        if audio is not None:
            self._audio.move_to_end(key)
        return audio

    async def fetch(self, key: PhraseKey) -> tuple[AudioChunk, ...] | None:
        """The phrase from memory, else from the shared directory (read in a worker thread)."""
        audio = self.lookup(key)
        if audio is None and self._directory is not None:
            audio = await asyncio.to_thread(self._read, key)
            if audio is not None:
                self._remember(key, audio)
        return audio

    def flight(
        self, key: PhraseKey, tts: TextToSpeech, text: str, voice_id: str, audio_format: AudioFormat
    ) -> tuple[_Flight, bool]:
        """The synthesis of a phrase nobody holds, and whether this call joined it: the one
        under way (joined), or a new one on this call's voice."""
        flight = self._flights.get(key)
        if flight is not None:
            self.shared += 1
            return flight, True
        held = self.lookup(key)  # a flight that ended while this call looked on disk
        if held is not None:
            self.hits += 1
            return _Flight.landed(key[0], held), False
        self.misses += 1
        flight = _Flight(key[0])
        stream = tts.synthesize(text, voice_id, audio_format)
        task = asyncio.get_running_loop().create_task(self._fly(key, flight, stream))
        self._flights[key] = flight
        self._warming.add(task)
        task.add_done_callback(self._warming.discard)
        return flight, False

    async def _fly(
        self, key: PhraseKey, flight: _Flight, stream: AsyncIterator[AudioChunk]
    ) -> None:
        try:
            try:
                async for chunk in stream:
                    flight.add(chunk)
            finally:
                await close_stream(stream)
        except Exception as error:
            log.warning("could not synthesize the phrase %r: %r", key[3][:60], error)
            flight.fail(error)
        except asyncio.CancelledError:  # the node is stopping
            flight.fail(ProviderError(key[0], "the phrase's synthesis was stopped"))
            raise
        finally:
            # Whatever happened above, nobody waits on a failed flight, nor joins it.
            self._flights.pop(key, None)
            if flight.failed:
                flight.finish()
        if flight.failed:
            return
        # Kept before the flight ends, in memory and on disk, so that a call that misses it
        # from now on finds it here or in another worker process; the listeners have all the
        # audio by then, and a stop during the write does not take it from them.
        audio = tuple(flight.chunks)
        self._remember(key, audio)
        try:
            if self._directory is not None:
                await asyncio.to_thread(self._write, key, audio)
        finally:
            flight.finish()

    async def aclose(self) -> None:
        """Stop the syntheses under way (the node is stopping); their listeners get an error."""
        tasks = list(self._warming)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _remember(self, key: PhraseKey, audio: tuple[AudioChunk, ...]) -> None:
        self._audio[key] = audio
        self._audio.move_to_end(key)
        while len(self._audio) > self._max:
            self._audio.popitem(last=False)

    def _path(self, key: PhraseKey) -> Path | None:
        if self._directory is None:
            return None
        name, voice_id, audio_format, text = key
        identity = (
            f"{name}\0{voice_id}\0{audio_format.encoding}\0{audio_format.sample_rate}\0{text}"
        )
        return self._directory / f"{hashlib.sha256(identity.encode()).hexdigest()}.audio"

    def _read(self, key: PhraseKey) -> tuple[AudioChunk, ...] | None:
        path = self._path(key)
        if path is None or not path.is_file():
            return None
        try:
            return (AudioChunk(path.read_bytes(), key[2]),)
        except OSError as error:
            log.warning("could not read cached phrase %s: %s", path, error)
            return None

    def _write(self, key: PhraseKey, audio: tuple[AudioChunk, ...]) -> None:
        path = self._path(key)
        if path is None or len({chunk.format for chunk in audio}) > 1:
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            # Written aside and renamed, so another worker never reads half a phrase.
            partial = path.with_suffix(f".{os.getpid()}.{next(_WRITES)}.partial")
            partial.write_bytes(b"".join(chunk.data for chunk in audio))
            partial.replace(path)
        except OSError as error:
            log.warning("could not store phrase audio in %s: %s", path, error)

    def warm(self, tts: TextToSpeech, text: str, voice_id: str, audio_format: AudioFormat) -> None:
        """Synthesize `text` in the background, sentence by sentence as a call will speak it."""
        sentences = [
            s
            for s in split_sentences(text)
            if self.lookup((tts.name, voice_id, audio_format, s)) is None
        ]
        if not sentences:
            return
        task = asyncio.get_running_loop().create_task(
            self._synthesize(self.voice(tts), sentences, voice_id, audio_format)
        )
        self._warming.add(task)
        task.add_done_callback(self._warming.discard)

    @staticmethod
    async def _synthesize(
        voice: CachedVoice, sentences: list[str], voice_id: str, audio_format: AudioFormat
    ) -> None:
        try:
            for sentence in sentences:
                async for _ in voice.synthesize(sentence, voice_id, audio_format):
                    pass
        except Exception as error:
            log.warning("could not pre-synthesize a phrase: %r", error)


class _Flight:
    """One phrase being synthesized: its audio so far, for every call that listens to it."""

    def __init__(self, provider: str) -> None:
        self.provider = provider
        self.chunks: list[AudioChunk] = []
        self._error: Exception | None = None
        self._done = False
        self._more = asyncio.Event()

    @classmethod
    def landed(cls, provider: str, audio: tuple[AudioChunk, ...]) -> _Flight:
        flight = cls(provider)
        flight.chunks.extend(audio)
        flight.finish()
        return flight

    @property
    def failed(self) -> bool:
        return self._error is not None

    def add(self, chunk: AudioChunk) -> None:
        self.chunks.append(chunk)
        self._wake()

    def fail(self, error: Exception) -> None:
        self._error = error

    def finish(self) -> None:
        self._done = True
        self._wake()

    def _wake(self) -> None:
        self._more.set()
        self._more = asyncio.Event()

    async def listen(self) -> AsyncIterator[AudioChunk]:
        """The audio from its start, as it is made; a `ProviderError` of its own to each
        listener if the voice failed (one error object raised in many calls would gather all
        their stacks)."""
        heard = 0
        while True:
            more = self._more
            while heard < len(self.chunks):
                yield self.chunks[heard]
                heard += 1
            if self._done:
                if self._error is not None:
                    raise ProviderError(self.provider, str(self._error)) from self._error
                return
            await more.wait()


class CachedVoice:
    def __init__(self, tts: TextToSpeech, cache: PhraseCache) -> None:
        self._tts = tts
        self._cache = cache
        self.name = tts.name

    def output_format(self, preferred: AudioFormat) -> AudioFormat:
        return self._tts.output_format(preferred)

    async def synthesize(
        self, text: str, voice_id: str, audio_format: AudioFormat
    ) -> AsyncIterator[AudioChunk]:
        key: PhraseKey = (self._tts.name, voice_id, audio_format, text)
        cached = await self._cache.fetch(key)
        if cached is not None:
            self._cache.hits += 1
            for chunk in cached:
                yield chunk
            return
        flight, joined = self._cache.flight(key, self._tts, text, voice_id, audio_format)
        heard = 0
        audio = flight.listen()
        try:
            async for chunk in audio:
                heard += 1
                yield chunk
        except ProviderError:
            if not joined or heard:
                raise
            # The synthesis this call joined failed before any audio, on the voice of the call
            # that started it (another organization's key or breaker, say): this call's own
            # voice, and its fallbacks, try once more.
            stream = self._tts.synthesize(text, voice_id, audio_format)
            try:
                async for chunk in stream:
                    yield chunk
            finally:
                await close_stream(stream)
        finally:
            await close_stream(audio)
