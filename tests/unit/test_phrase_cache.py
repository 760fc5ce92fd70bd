import asyncio
from pathlib import Path

import pytest

from app.audio.formats import MULAW_8K
from app.engine.phrases import PhraseCache
from tests.fakes.providers import ToneTextToSpeech

pytestmark = pytest.mark.unit


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


async def test_a_phrase_cut_short_is_not_cached() -> None:
    tts = ToneTextToSpeech(first_byte_delay_s=0)
    cache = PhraseCache()
    voice = cache.voice(tts)
    stream = voice.synthesize("A long sentence to be interrupted.", "joe", tts.FORMAT)
    await anext(stream)
    await stream.aclose()
    assert cache.lookup(("tone", "joe", tts.FORMAT, "A long sentence to be interrupted.")) is None


async def test_calls_that_miss_the_same_phrase_at_once_each_store_it(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    tts = ToneTextToSpeech(first_byte_delay_s=0)
    cache = PhraseCache(directory=tmp_path)
    said = await asyncio.gather(*(collect(cache, tts, "Hello there.") for _ in range(20)))
    assert len(set(said)) == 1
    assert "could not store phrase audio" not in caplog.text  # they wrote one partial file
    stored = await asyncio.to_thread(lambda: sorted(p.suffix for p in tmp_path.iterdir()))
    assert stored == [".audio"]
