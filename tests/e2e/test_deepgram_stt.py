"""Deepgram live speech-to-text against a local server speaking Deepgram's live wire format."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator, Iterator

import numpy as np
import pytest

from app.providers.base import ProviderError, Transcript
from app.providers.deepgram.stt import DeepgramSpeechToText, DeepgramSttStream
from tests.fakes.cloud.deepgram import (
    DeepgramLiveDouble,
    DeepgramScript,
    Refusal,
    rate_limited,
    unavailable,
)

pytestmark = pytest.mark.e2e

API_KEY = "dg-test-key-123"
FRAME_SAMPLES = 320  # 20 ms at 16 kHz


def _frames(ms: int, level: float) -> list[bytes]:
    t = np.arange(FRAME_SAMPLES * (ms // 20)) / 16000
    samples = (level * 32767 * np.sin(2 * np.pi * 220 * t)).astype("<i2").tobytes()
    size = FRAME_SAMPLES * 2
    return [samples[i : i + size] for i in range(0, len(samples), size)]


def speech(ms: int) -> list[bytes]:
    return _frames(ms, 0.1)


def silence(ms: int) -> list[bytes]:
    return _frames(ms, 0.0)


@pytest.fixture
def deepgram() -> Iterator[DeepgramLiveDouble]:
    with DeepgramLiveDouble(API_KEY) as double:
        yield double


def _stt(double: DeepgramLiveDouble, *, keep_alive_after_s: float = 4.0) -> DeepgramSpeechToText:
    return DeepgramSpeechToText(
        API_KEY, base_url=double.base_url, keep_alive_after_s=keep_alive_after_s
    )


async def _push(stream: DeepgramSttStream, frames: list[bytes]) -> None:
    for frame in frames:
        await stream.push_audio(frame)


async def _until(
    transcripts: AsyncIterator[Transcript], stop: int = 1, timeout_s: float = 3.0
) -> list[Transcript]:
    """Transcripts up to and including the `stop`-th one that ends speech."""
    seen: list[Transcript] = []
    async with asyncio.timeout(timeout_s):
        async for transcript in transcripts:
            seen.append(transcript)
            if sum(t.end_of_speech for t in seen) == stop:
                return seen
    return seen


async def test_open_stream_connects_at_once_with_the_documented_query_and_token(
    deepgram: DeepgramLiveDouble,
) -> None:
    stream = await _stt(deepgram).open_stream("en-US")
    await stream.aclose()

    [connection] = deepgram.connections
    assert connection.path == "/v1/listen"
    assert connection.headers["Authorization"] == f"Token {API_KEY}"
    assert connection.query == {
        "model": "nova-3",
        "language": "en-US",
        "encoding": "linear16",
        "sample_rate": "16000",
        "channels": "1",
        "interim_results": "true",
        "endpointing": "300",
        "utterance_end_ms": "1000",
        "vad_events": "true",
        "punctuate": "true",
        "smart_format": "true",
    }
    assert connection.audio_bytes == 0  # opened before the caller said anything


async def test_speech_streams_interims_then_a_final_that_ends_speech(
    deepgram: DeepgramLiveDouble,
) -> None:
    stream = await _stt(deepgram).open_stream("en")
    await _push(stream, speech(400) + silence(400))

    seen = await _until(stream.transcripts())
    await stream.aclose()

    interims, final = seen[:-1], seen[-1]
    assert [t.text for t in interims] == ["hello", "hello there", "hello there", "hello there"]
    assert not any(t.is_final or t.end_of_speech for t in interims)
    assert final == Transcript("hello there", is_final=True, confidence=0.98, end_of_speech=True)


async def test_utterance_end_ends_speech_when_the_final_did_not(
    deepgram: DeepgramLiveDouble,
) -> None:
    deepgram.script = DeepgramScript(speech_final=False)
    stream = await _stt(deepgram).open_stream("en")
    await _push(stream, speech(200) + silence(1200))

    seen = await _until(stream.transcripts())
    await stream.aclose()

    assert seen[-2] == Transcript("hello there", is_final=True, confidence=0.98)
    assert seen[-1] == Transcript("", is_final=True, end_of_speech=True)


async def test_utterance_end_after_speech_final_is_not_passed_on_twice(
    deepgram: DeepgramLiveDouble,
) -> None:
    stream = await _stt(deepgram).open_stream("en")
    await _push(stream, speech(200) + silence(1200) + speech(200) + silence(400))

    seen = await _until(stream.transcripts(), stop=2)
    await stream.aclose()

    finals = [t for t in seen if t.is_final]
    assert finals == [
        Transcript("hello there", is_final=True, confidence=0.98, end_of_speech=True),
        Transcript("book a table", is_final=True, confidence=0.98, end_of_speech=True),
    ]


async def test_finalize_sends_finalize_and_gets_a_final_for_the_words_so_far(
    deepgram: DeepgramLiveDouble,
) -> None:
    stream = await _stt(deepgram).open_stream("en")
    transcripts = stream.transcripts()
    await _push(stream, speech(200))
    assert (await anext(transcripts)).text == "hello"

    await stream.finalize()
    async with asyncio.timeout(3):
        final = await anext(t async for t in transcripts if t.is_final)
    await stream.aclose()

    assert final == Transcript("hello there", is_final=True, confidence=0.98)
    assert deepgram.connections[0].controls[0] == "Finalize"


async def test_finalize_with_nothing_heard_gets_an_empty_final(
    deepgram: DeepgramLiveDouble,
) -> None:
    stream = await _stt(deepgram).open_stream("en")
    await _push(stream, silence(200))
    await stream.finalize()

    async with asyncio.timeout(3):
        first = await anext(stream.transcripts())
    await stream.aclose()

    assert first == Transcript("", is_final=True, confidence=0.0)


async def test_keep_alive_holds_an_idle_stream_open_past_the_idle_timeout(
    deepgram: DeepgramLiveDouble,
) -> None:
    deepgram.script = DeepgramScript(idle_timeout_s=0.4)
    stream = await _stt(deepgram, keep_alive_after_s=0.1).open_stream("en")
    await asyncio.sleep(1.0)  # the agent speaks; no caller audio is forwarded

    await _push(stream, speech(200) + silence(400))
    seen = await _until(stream.transcripts())
    await stream.aclose()

    assert seen[-1].text == "hello there"
    assert deepgram.connections[0].controls.count("KeepAlive") >= 3


async def test_no_keep_alive_while_audio_flows(deepgram: DeepgramLiveDouble) -> None:
    stream = await _stt(deepgram, keep_alive_after_s=0.2).open_stream("en")
    for frame in silence(600):
        await stream.push_audio(frame)
        await asyncio.sleep(0.02)
    await stream.aclose()

    assert "KeepAlive" not in deepgram.connections[0].controls


async def test_aclose_sends_close_stream_and_gets_the_last_words(
    deepgram: DeepgramLiveDouble,
) -> None:
    stream = await _stt(deepgram).open_stream("en")
    await _push(stream, speech(200))

    await stream.aclose()
    rest = [t async for t in stream.transcripts()]

    assert deepgram.connections[0].controls == ["CloseStream"]
    assert rest[-1] == Transcript("hello there", is_final=True, confidence=0.98)


async def test_slow_first_result_is_waited_for(deepgram: DeepgramLiveDouble) -> None:
    deepgram.script = DeepgramScript(first_result_delay_s=1.0)
    stream = await _stt(deepgram).open_stream("en")
    started = time.monotonic()
    await _push(stream, speech(200) + silence(400))

    seen = await _until(stream.transcripts())
    await stream.aclose()

    assert time.monotonic() - started >= 0.9
    assert seen[-1].text == "hello there"


async def test_close_frame_mid_stream_raises_provider_error_with_code_and_reason(
    deepgram: DeepgramLiveDouble,
) -> None:
    deepgram.script = DeepgramScript(drop_after_audio_ms=100, drop_reason="NET-0000")
    stream = await _stt(deepgram).open_stream("en")
    await _push(stream, speech(400))  # frames after the close are dropped, not raised

    with pytest.raises(ProviderError, match=r"code 1011, reason 'NET-0000'") as raised:
        await _until(stream.transcripts())
    await stream.aclose()

    assert raised.value.provider == "deepgram"


async def test_connection_reset_mid_stream_raises_provider_error(
    deepgram: DeepgramLiveDouble,
) -> None:
    deepgram.script = DeepgramScript(drop_after_audio_ms=100, drop_code=None)
    stream = await _stt(deepgram).open_stream("en")
    await _push(stream, speech(200))

    with pytest.raises(ProviderError, match="closed mid-call"):
        await _until(stream.transcripts())
    await stream.aclose()


async def test_silent_stream_without_keep_alive_is_closed_with_net_0001(
    deepgram: DeepgramLiveDouble,
) -> None:
    deepgram.script = DeepgramScript(idle_timeout_s=0.3)
    stream = await _stt(deepgram, keep_alive_after_s=30).open_stream("en")

    with pytest.raises(ProviderError, match=r"NET-0001.*no audio or KeepAlive"):
        await _until(stream.transcripts())
    await stream.aclose()


async def test_wrong_key_raises_provider_error_401_naming_the_key(
    deepgram: DeepgramLiveDouble,
) -> None:
    stt = DeepgramSpeechToText("wrong-key", base_url=deepgram.base_url)

    with pytest.raises(ProviderError) as raised:
        await stt.open_stream("en")

    assert raised.value.status == 401
    assert "INVALID_AUTH: Invalid credentials." in str(raised.value)
    assert "Deepgram API key" in str(raised.value)
    assert "wrong-key" not in str(raised.value)


@pytest.mark.parametrize(
    ("refusal", "excerpt"),
    [
        (rate_limited(), "TOO_MANY_REQUESTS: Too many requests"),
        (unavailable(503), "temporarily unavailable"),
        (unavailable(500), "temporarily unavailable"),
    ],
)
async def test_refused_handshake_keeps_the_status_and_deepgrams_reason(
    deepgram: DeepgramLiveDouble, refusal: Refusal, excerpt: str
) -> None:
    deepgram.script = DeepgramScript(refuse=refusal)

    with pytest.raises(ProviderError) as raised:
        await _stt(deepgram).open_stream("en")

    assert raised.value.status == refusal.status
    assert excerpt in str(raised.value)
    assert "request " in str(raised.value)  # dg-request-id, for Deepgram support


async def test_unreachable_service_raises_provider_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    stt = DeepgramSpeechToText(API_KEY, base_url=f"http://127.0.0.1:{port}")

    with pytest.raises(ProviderError, match="check the base URL") as raised:
        await stt.open_stream("en")

    assert raised.value.status is None


async def test_malformed_messages_are_skipped_and_counted(deepgram: DeepgramLiveDouble) -> None:
    deepgram.script = DeepgramScript(
        malformed=["not json", '{"type": "Results", "channel": {}}', b"\x00\x01", "[1, 2]"]
    )
    stream = await _stt(deepgram).open_stream("en")
    await _push(stream, speech(200) + silence(400))

    seen = await _until(stream.transcripts())
    await stream.aclose()

    assert seen[-1].text == "hello there"
    assert stream.malformed_messages == 4


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
async def test_the_official_sdk_reads_the_doubles_messages(deepgram: DeepgramLiveDouble) -> None:
    from deepgram import AsyncDeepgramClient
    from deepgram.environment import DeepgramClientEnvironment
    from deepgram.listen.v1.types import ListenV1Results, ListenV1SpeechStarted

    environment = DeepgramClientEnvironment(
        base=deepgram.base_url,
        production=deepgram.ws_url,
        agent=deepgram.ws_url,
        agent_rest=deepgram.base_url,
    )
    client = AsyncDeepgramClient(api_key=API_KEY, environment=environment)
    received: list[object] = []
    async with client.listen.v1.connect(
        model="nova-3",
        encoding="linear16",
        sample_rate=16000,
        interim_results="true",
        vad_events="true",
        endpointing=300,
    ) as connection:
        for frame in speech(200) + silence(400):
            await connection.send_media(frame)
        async with asyncio.timeout(3):
            while True:
                message = await connection.recv()
                received.append(message)
                if isinstance(message, ListenV1Results) and message.speech_final:
                    break
        await connection.send_close_stream()
        await deepgram.wait_until(lambda: bool(deepgram.connections[0].controls))

    assert isinstance(received[0], ListenV1SpeechStarted)
    final = received[-1]
    assert isinstance(final, ListenV1Results)
    assert final.channel.alternatives[0].transcript == "hello there"
    assert deepgram.connections[0].headers["Authorization"] == f"Token {API_KEY}"
    assert deepgram.connections[0].controls == ["CloseStream"]
