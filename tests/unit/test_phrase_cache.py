import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from app.audio.formats import MULAW_8K, AudioChunk, AudioFormat
from app.engine.phrases import PhraseCache
from app.providers.base import ProviderError, close_stream
from tests.fakes.providers import ToneTextToSpeech

pytestmark = pytest.mark.unit


class FailingMidway(ToneTextToSpeech):
    """A tone voice that fails after a few chunks; counts the syntheses it was asked for."""

    def __init__(self, after_chunks: int) -> None:
        super().__init__(first_byte_delay_s=0, chunk_ms=20)
        self.after_chunks = after_chunks
        self.calls = 0

    async def synthesize(
        self, text: str, voice_id: str, audio_format: AudioFormat
    ) -> AsyncIterator[AudioChunk]:
        self.calls += 1
        sent = 0
        async for chunk in super().synthesize(text, voice_id, audio_format):
            if sent == self.after_chunks:
                raise ProviderError(self.name, "the voice service reset the connection")
            sent += 1
            yield chunk
            await asyncio.sleep(0)


async def wait_for_flights(cache: PhraseCache) -> None:
    """Until every synthesis the cache started has ended."""
    for _ in range(200):
        if not cache.in_flight():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("a phrase's synthesis never ended")


async def collect(cache: PhraseCache, tts: ToneTextToSpeech, text: str) -> bytes:
    voice = cache.voice(tts)
    fmt = voice.output_format(MULAW_8K)
    return b"".join([chunk.data async for chunk in voice.synthesize(text, "joe", fmt)])


async def test_a_phrase_is_synthesized_once_and_replayed_identically() -> None:
    tts = ToneTextToSpeech(first_byte_delay_s=0)
    cache = PhraseCache()
    first = await collect(cache, tts, "Hello there.")
    again = await collect(cache, tts, "Hello there.")
    assert again == first
    assert tts.spoken == ["Hello there."]
    assert (cache.hits, cache.misses) == (1, 1)


async def test_another_worker_process_finds_the_phrase_on_disk(tmp_path: Path) -> None:
    tts = ToneTextToSpeech(first_byte_delay_s=0)
    first = await collect(PhraseCache(directory=tmp_path), tts, "Hello there.")
    other_worker = PhraseCache(directory=tmp_path)
    assert await collect(other_worker, tts, "Hello there.") == first
    assert tts.spoken == ["Hello there."]
    partials = await asyncio.to_thread(lambda: list(tmp_path.glob("*.partial")))
    assert not partials


async def test_a_phrase_its_caller_talked_over_is_still_made_whole_and_kept() -> None:
    tts = ToneTextToSpeech(first_byte_delay_s=0)
    cache = PhraseCache()
    voice = cache.voice(tts)
    text = "A long sentence to be interrupted."
    stream = voice.synthesize(text, "joe", tts.FORMAT)
    await anext(stream)
    await close_stream(stream)
    await wait_for_flights(cache)
    whole = await collect(PhraseCache(), ToneTextToSpeech(first_byte_delay_s=0), text)
    kept = cache.lookup(("tone", "joe", tts.FORMAT, text))
    assert kept is not None
    assert b"".join(chunk.data for chunk in kept) == whole
    assert tts.spoken == [text]


async def test_calls_that_miss_a_phrase_at_once_share_one_synthesis() -> None:
    tts = ToneTextToSpeech(first_byte_delay_s=0.05)
    cache = PhraseCache()
    said = await asyncio.gather(*(collect(cache, tts, "Hello there.") for _ in range(100)))
    assert len(set(said)) == 1
    assert said[0]
    assert tts.spoken == ["Hello there."]
    assert (cache.misses, cache.shared) == (1, 99)


async def test_a_call_that_joins_late_hears_the_phrase_from_its_start() -> None:
    tts = ToneTextToSpeech(first_byte_delay_s=0, chunk_ms=20)
    cache = PhraseCache()
    voice = cache.voice(tts)
    first = voice.synthesize("Hello there, and welcome.", "joe", tts.FORMAT)
    opening = [await anext(first), await anext(first)]
    late = await collect(cache, tts, "Hello there, and welcome.")
    rest = [chunk async for chunk in first]
    assert late == b"".join(chunk.data for chunk in opening + rest)
    assert cache.shared == 1


async def test_a_voice_that_fails_fails_every_call_that_shared_it() -> None:
    tts = ToneTextToSpeech(first_byte_delay_s=0.02, fail_on="Hello")
    cache = PhraseCache()
    outcomes = await asyncio.gather(
        *(collect(cache, tts, "Hello there.") for _ in range(3)), return_exceptions=True
    )
    assert all(isinstance(outcome, ProviderError) for outcome in outcomes)
    assert cache.lookup(("tone", "joe", tts.FORMAT, "Hello there.")) is None
    # The next call asks the voice again.
    tts.fail_on = None
    assert await collect(cache, tts, "Hello there.")
    assert cache.misses == 2


async def test_calls_that_miss_the_same_phrase_at_once_store_it_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    tts = ToneTextToSpeech(first_byte_delay_s=0)
    cache = PhraseCache(directory=tmp_path)
    said = await asyncio.gather(*(collect(cache, tts, "Hello there.") for _ in range(20)))
    await wait_for_flights(cache)
    assert len(set(said)) == 1
    assert "could not store phrase audio" not in caplog.text
    stored = await asyncio.to_thread(lambda: sorted(p.suffix for p in tmp_path.iterdir()))
    assert stored == [".audio"]


async def test_a_voice_that_fails_after_some_audio_fails_its_late_listener_too() -> None:
    tts = FailingMidway(after_chunks=3)
    cache = PhraseCache()
    voice = cache.voice(tts)
    first = voice.synthesize("Hello there.", "joe", tts.FORMAT)
    opening = [await anext(first), await anext(first)]
    late = cache.voice(tts).synthesize("Hello there.", "joe", tts.FORMAT)
    heard_late = [await anext(late) for _ in range(3)]
    assert [c.data for c in heard_late[:2]] == [c.data for c in opening]
    with pytest.raises(ProviderError):
        await anext(late)
    with pytest.raises(ProviderError):
        async for _ in first:
            pass
    assert tts.calls == 1  # the late listener had heard audio: it does not start again


async def test_a_listener_whose_shared_voice_failed_before_any_audio_tries_its_own() -> None:
    failing = ToneTextToSpeech(first_byte_delay_s=0.02, fail_on="Hello")
    working = ToneTextToSpeech(first_byte_delay_s=0.02)  # another organization's voice
    cache = PhraseCache()
    first, second = await asyncio.gather(
        collect(cache, failing, "Hello there."),
        collect(cache, working, "Hello there."),
        return_exceptions=True,
    )
    assert isinstance(first, ProviderError)
    assert isinstance(second, bytes)
    assert second
    assert working.spoken == ["Hello there."]


async def test_stopping_the_node_ends_a_synthesis_and_its_listeners() -> None:
    tts = ToneTextToSpeech(first_byte_delay_s=30.0)  # a voice that does not answer
    cache = PhraseCache()
    listener = asyncio.create_task(collect(cache, tts, "Hello there."))
    await asyncio.sleep(0.05)
    assert cache.in_flight() == 1
    await cache.aclose()
    with pytest.raises(ProviderError, match="stopped"):
        await listener
    assert cache.in_flight() == 0
