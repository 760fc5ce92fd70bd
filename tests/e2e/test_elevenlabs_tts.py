"""ElevenLabs TTS against a local double that speaks its WebSocket wire format."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest

from app.audio.formats import MULAW_8K, PCM16_16K, AudioChunk, AudioFormat
from app.providers.base import ProviderError, SessionTextToSpeech, TextToSpeech
from app.providers.elevenlabs.tts import ElevenLabsTextToSpeech
from tests.fakes.cloud.elevenlabs import MS_PER_CHAR, VALID_KEY, ElevenLabsDouble

pytestmark = pytest.mark.e2e


@pytest.fixture
async def double() -> AsyncIterator[ElevenLabsDouble]:
    async with ElevenLabsDouble() as running:
        yield running


def voice(double: ElevenLabsDouble, key: str = VALID_KEY) -> ElevenLabsTextToSpeech:
    return ElevenLabsTextToSpeech(key, base_url=double.base_url)


def expected_bytes(text: str, audio_format: AudioFormat) -> int:
    return audio_format.bytes_for_ms(len(text.strip()) * MS_PER_CHAR)


async def spoken(stream: AsyncIterator[AudioChunk], audio_format: AudioFormat) -> bytes:
    chunks = [chunk async for chunk in stream]
    assert all(chunk.format == audio_format for chunk in chunks)
    return b"".join(chunk.data for chunk in chunks)


def test_a_phone_line_gets_mulaw_8k_and_other_lines_pcm16() -> None:
    tts = ElevenLabsTextToSpeech("key")
    assert isinstance(tts, TextToSpeech)
    assert isinstance(tts, SessionTextToSpeech)
    assert tts.output_format(MULAW_8K) == MULAW_8K
    assert tts.output_format(AudioFormat("pcm16", 22050)) == AudioFormat("pcm16", 22050)
    assert tts.output_format(AudioFormat("pcm16", 12000)) == PCM16_16K


async def test_a_fixed_phrase_streams_mulaw_8k_on_its_own_stream_input_socket(
    double: ElevenLabsDouble,
) -> None:
    text = "Thanks for calling."
    audio = await spoken(voice(double).synthesize(text, "voice-1", MULAW_8K), MULAW_8K)

    assert len(audio) == expected_bytes(text, MULAW_8K)
    sent = double.connections[0]
    assert sent.path == "/v1/text-to-speech/voice-1/stream-input"
    assert sent.query["output_format"] == "ulaw_8000"
    assert sent.query["model_id"] == "eleven_flash_v2_5"
    assert sent.headers["xi-api-key"] == VALID_KEY
    assert sent.messages[0]["text"] == " "
    assert sent.messages[1] == {"text": "Thanks for calling. ", "flush": True}
    assert sent.messages[-1] == {"text": ""}


async def test_a_session_keeps_one_socket_for_several_turns_and_each_sentence_ends_on_its_audio(
    double: ElevenLabsDouble,
) -> None:
    tts = ElevenLabsTextToSpeech(
        VALID_KEY, base_url=double.base_url, voice_settings={"stability": 0.5}
    )
    session = await tts.open_session("voice-1", PCM16_16K)
    turns = {"t1": ["Hello there.", "How can I help?"], "t2": ["Sure, one moment."]}
    for turn_id, sentences in turns.items():
        for text in sentences:
            audio = await spoken(session.synthesize(text, turn_id=turn_id), PCM16_16K)
            assert len(audio) == expected_bytes(text, PCM16_16K)
        await session.end_turn(turn_id)
    await session.aclose()

    assert len(double.connections) == 1
    sent = double.connections[0]
    assert sent.path == "/v1/text-to-speech/voice-1/multi-stream-input"
    assert sent.query["output_format"] == "pcm_16000"
    assert sent.query["inactivity_timeout"] == "180"
    openings = [m for m in sent.messages if m.get("text") == " "]
    assert [("voice_settings" in m) for m in openings] == [True, False, False]
    contexts = [m["context_id"] for m in openings]
    assert len(set(contexts)) == 3
    assert [c.split("-")[0] for c in contexts] == ["t1", "t1", "t2"]
    closed = [m["context_id"] for m in sent.messages if m.get("close_context")]
    assert closed == contexts
    assert sent.messages[-1] == {"close_socket": True}


@pytest.mark.timing
async def test_barge_in_stops_the_sentence_at_once_and_the_next_turn_speaks(
    double: ElevenLabsDouble,
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
    cancelled = double.messages()[0]["context_id"]
    assert {"context_id": cancelled, "close_context": True} in double.messages()

    double.behaviour.chunk_interval_s = 0.0
    audio = await spoken(session.synthesize("Yes?", turn_id="t2"), MULAW_8K)
    assert len(audio) == expected_bytes("Yes?", MULAW_8K)
    assert len(double.connections) == 1
    await session.aclose()


async def test_a_slow_first_byte_still_brings_the_whole_sentence(double: ElevenLabsDouble) -> None:
    double.behaviour.first_byte_delay_s = 0.6
    session = await voice(double).open_session("voice-1", MULAW_8K)
    audio = await spoken(session.synthesize("Let me check.", turn_id="t1"), MULAW_8K)
    assert len(audio) == expected_bytes("Let me check.", MULAW_8K)
    await session.aclose()


async def test_a_connection_lost_mid_sentence_fails_it_and_the_next_sentence_reconnects(
    double: ElevenLabsDouble,
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


async def test_a_bad_key_is_a_401_with_advice(double: ElevenLabsDouble) -> None:
    session = await voice(double, key="wrong").open_session("voice-1", MULAW_8K)
    with pytest.raises(ProviderError) as in_session:
        await spoken(session.synthesize("Hello.", turn_id="t1"), MULAW_8K)
    with pytest.raises(ProviderError) as one_shot:
        await spoken(voice(double, key="wrong").synthesize("Hi.", "voice-1", MULAW_8K), MULAW_8K)
    await session.aclose()

    for error in (in_session.value, one_shot.value):
        assert error.status == 401
        assert "check the ElevenLabs API key" in str(error)
    assert double.connections[0].close_code == 1008


@pytest.mark.parametrize("status", [401, 429, 503])
async def test_a_refused_connection_keeps_its_http_status(
    double: ElevenLabsDouble, status: int
) -> None:
    double.behaviour.refuse_status = status
    with pytest.raises(ProviderError) as failure:
        await voice(double).open_session("voice-1", MULAW_8K)
    assert failure.value.status == status
    if status == 429:
        assert "concurrency" in str(failure.value)


@pytest.mark.parametrize(
    ("error", "close_code", "status"),
    [
        ("quota_exceeded", 1008, 429),
        ("max_active_conversations", 1008, 429),
        ("server_error", 1011, 500),
    ],
)
async def test_a_policy_or_server_close_mid_stream_keeps_its_status(
    double: ElevenLabsDouble, error: str, close_code: int, status: int
) -> None:
    double.behaviour.policy_error = (error, "We are sorry, something went wrong.")
    double.behaviour.close_code = close_code
    session = await voice(double).open_session("voice-1", MULAW_8K)
    with pytest.raises(ProviderError) as failure:
        await spoken(session.synthesize("Hello.", turn_id="t1"), MULAW_8K)
    assert failure.value.status == status
    await session.aclose()


async def test_a_malformed_message_is_counted_and_skipped(double: ElevenLabsDouble) -> None:
    double.behaviour.malformed_before_audio = 2
    tts = voice(double)
    session = await tts.open_session("voice-1", MULAW_8K)
    audio = await spoken(session.synthesize("Still here.", turn_id="t1"), MULAW_8K)
    await session.aclose()

    assert len(audio) == expected_bytes("Still here.", MULAW_8K)
    assert tts.malformed_messages == 2


async def test_closing_the_session_closes_the_socket(double: ElevenLabsDouble) -> None:
    session = await voice(double).open_session("voice-1", MULAW_8K)
    await session.aclose()
    await asyncio.sleep(0.05)
    assert double.connections[0].messages == [{"close_socket": True}]
