"""Cartesia TTS through the real `cartesia` SDK against a local double of its WebSocket."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from app.audio.formats import MULAW_8K, PCM16_16K, AudioChunk, AudioFormat
from app.providers.base import ProviderError, SessionTextToSpeech, TextToSpeech
from app.providers.cartesia.tts import SDK_API_VERSION, CartesiaTextToSpeech
from tests.fakes.cloud.cartesia import MS_PER_CHAR, VALID_KEY, CartesiaDouble

pytestmark = pytest.mark.e2e


@pytest.fixture
async def double() -> AsyncIterator[CartesiaDouble]:
    async with CartesiaDouble() as running:
        yield running


def voice(double: CartesiaDouble, key: str = VALID_KEY) -> CartesiaTextToSpeech:
    return CartesiaTextToSpeech(key, base_url=double.base_url)


def expected_bytes(text: str, audio_format: AudioFormat) -> int:
    return audio_format.bytes_for_ms(len(text.strip()) * MS_PER_CHAR)


async def spoken(stream: AsyncIterator[AudioChunk], audio_format: AudioFormat) -> bytes:
    chunks = [chunk async for chunk in stream]
    assert all(chunk.format == audio_format for chunk in chunks)
    return b"".join(chunk.data for chunk in chunks)


def requests(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [m for m in messages if "transcript" in m]


def test_a_phone_line_gets_mulaw_8k_and_other_lines_pcm16() -> None:
    tts = CartesiaTextToSpeech("key")
    assert isinstance(tts, TextToSpeech)
    assert isinstance(tts, SessionTextToSpeech)
    assert tts.output_format(MULAW_8K) == MULAW_8K
    assert tts.output_format(AudioFormat("pcm16", 24000)) == AudioFormat("pcm16", 24000)
    assert tts.output_format(AudioFormat("mulaw", 16000)) == PCM16_16K


async def test_a_fixed_phrase_streams_mulaw_8k_through_the_sdk(double: CartesiaDouble) -> None:
    text = "Thanks for calling."
    audio = await spoken(voice(double).synthesize(text, "voice-1", MULAW_8K), MULAW_8K)

    assert len(audio) == expected_bytes(text, MULAW_8K)
    sent = double.connections[0]
    assert sent.headers["authorization"] == f"Bearer {VALID_KEY}"
    assert sent.headers["cartesia-version"] == SDK_API_VERSION
    [request] = sent.messages
    assert request["model_id"] == "sonic-2"
    assert request["transcript"] == text
    assert request["voice"] == {"mode": "id", "id": "voice-1"}
    assert request["output_format"] == {
        "container": "raw",
        "encoding": "pcm_mulaw",
        "sample_rate": 8000,
    }
    assert request["continue"] is False


async def test_a_turn_is_one_context_continued_and_each_sentence_ends_at_its_flush(
    double: CartesiaDouble,
) -> None:
    session = await voice(double).open_session("voice-1", PCM16_16K)
    turns = {"t1": ["Hello there.", "How can I help?"], "t2": ["Sure, one moment."]}
    for turn_id, sentences in turns.items():
        for text in sentences:
            audio = await spoken(session.synthesize(text, turn_id=turn_id), PCM16_16K)
            assert len(audio) == expected_bytes(text, PCM16_16K)
        await session.end_turn(turn_id)
    await asyncio.sleep(0.05)
    await session.aclose()

    assert len(double.connections) == 1
    sent = requests(double.messages())
    shape = [(m["transcript"], m["continue"], m.get("flush", False)) for m in sent]
    assert shape == [
        ("Hello there.", True, False),
        ("", True, True),
        (" How can I help?", True, False),
        ("", True, True),
        ("", False, False),
        ("Sure, one moment.", True, False),
        ("", True, True),
        ("", False, False),
    ]
    contexts = [m["context_id"] for m in sent]
    assert len(set(contexts[:5])) == 1
    assert len(set(contexts[5:])) == 1
    assert contexts[0] != contexts[5]
    assert {m["output_format"]["encoding"] for m in sent} == {"pcm_s16le"}
    assert {m["output_format"]["sample_rate"] for m in sent} == {16000}


@pytest.mark.timing
async def test_barge_in_cancels_the_context_at_once_and_the_next_turn_speaks(
    double: CartesiaDouble,
) -> None:
    double.behaviour.chunk_interval_s = 0.5
    session = await voice(double).open_session("voice-1", MULAW_8K)
    stream = session.synthesize("This is a long answer that the caller cuts short.", turn_id="t1")
    await anext(stream)
    await anext(stream)

    started = time.monotonic()
    await session.cancel("t1")
    with pytest.raises(StopAsyncIteration):
        await anext(stream)
    assert time.monotonic() - started < 0.25  # well before the next chunk was due
    cancelled = requests(double.messages())[0]["context_id"]
    await asyncio.sleep(0.02)
    assert {"context_id": cancelled, "cancel": True} in double.messages()

    double.behaviour.chunk_interval_s = 0.0
    audio = await spoken(session.synthesize("Yes?", turn_id="t2"), MULAW_8K)
    assert len(audio) == expected_bytes("Yes?", MULAW_8K)
    assert len(double.connections) == 1
    await session.aclose()


async def test_a_slow_first_byte_still_brings_the_whole_sentence(double: CartesiaDouble) -> None:
    double.behaviour.first_byte_delay_s = 0.6
    session = await voice(double).open_session("voice-1", MULAW_8K)
    audio = await spoken(session.synthesize("Let me check.", turn_id="t1"), MULAW_8K)
    assert len(audio) == expected_bytes("Let me check.", MULAW_8K)
    await session.aclose()


async def test_a_connection_lost_mid_sentence_fails_it_and_the_next_sentence_reconnects(
    double: CartesiaDouble,
) -> None:
    double.behaviour.drop_after_chunks = 2
    session = await voice(double).open_session("voice-1", MULAW_8K)
    with pytest.raises(ProviderError) as failure:
        await spoken(session.synthesize("A sentence long enough to drop.", turn_id="t1"), MULAW_8K)
    assert failure.value.status is None
    assert "mid-stream" in str(failure.value)

    double.behaviour.drop_after_chunks = None
    audio = await spoken(session.synthesize("Sorry.", turn_id="t2"), MULAW_8K)
    assert len(audio) == expected_bytes("Sorry.", MULAW_8K)
    assert len(double.connections) == 2
    await session.aclose()


async def test_a_bad_key_is_refused_with_401_and_advice(double: CartesiaDouble) -> None:
    with pytest.raises(ProviderError) as in_session:
        await voice(double, key="wrong").open_session("voice-1", MULAW_8K)
    with pytest.raises(ProviderError) as one_shot:
        await spoken(voice(double, key="wrong").synthesize("Hi.", "voice-1", MULAW_8K), MULAW_8K)
    for error in (in_session.value, one_shot.value):
        assert error.status == 401
        assert "check the Cartesia API key" in str(error)


@pytest.mark.parametrize("status", [429, 500, 503])
async def test_a_refused_connection_keeps_its_http_status(
    double: CartesiaDouble, status: int
) -> None:
    double.behaviour.refuse_status = status
    with pytest.raises(ProviderError) as failure:
        await voice(double).open_session("voice-1", MULAW_8K)
    assert failure.value.status == status


@pytest.mark.parametrize("status", [429, 500])
async def test_an_error_message_for_the_context_keeps_its_status(
    double: CartesiaDouble, status: int
) -> None:
    session = await voice(double).open_session("voice-1", MULAW_8K)
    double.behaviour.context_error = (status, "concurrency_limited", "Too many requests")
    with pytest.raises(ProviderError) as failure:
        await spoken(session.synthesize("Hello.", turn_id="t1"), MULAW_8K)
    assert failure.value.status == status

    double.behaviour.context_error = None
    audio = await spoken(session.synthesize("Hello again.", turn_id="t2"), MULAW_8K)
    assert len(audio) == expected_bytes("Hello again.", MULAW_8K)
    await session.aclose()


async def test_a_malformed_message_is_counted_and_skipped(double: CartesiaDouble) -> None:
    double.behaviour.malformed_before_audio = 2
    tts = voice(double)
    session = await tts.open_session("voice-1", MULAW_8K)
    audio = await spoken(session.synthesize("Still here.", turn_id="t1"), MULAW_8K)
    await session.aclose()

    assert len(audio) == expected_bytes("Still here.", MULAW_8K)
    assert tts.malformed_messages == 2
