"""Providers that go quiet part-way: a stalled stream fails within its timeout, a recognizer
lost mid-turn makes the agent ask again, and a session that stalls on close does not hold up
the call's save."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest

from app.audio.formats import MULAW_8K, AudioChunk, AudioFormat
from app.config.agent import AgentConfig
from app.engine.conversation import CallContext
from app.engine.options import EngineOptions
from app.engine.session import CallSession
from app.providers.base import (
    ChatMessage,
    GenerationOptions,
    LlmEvent,
    ProviderError,
    TextDelta,
    ToolSpec,
    Transcript,
)
from app.providers.energy.vad import EnergyVad
from app.providers.fallback.breakers import CircuitBreakers
from app.providers.fallback.chain import Chain, FallbackLanguageModel
from app.providers.fallback.stt import FallbackSpeechToText
from app.providers.fallback.voice import FallbackTextToSpeech
from app.providers.registry import ProviderSet
from tests.audio_samples import speech_like
from tests.fakes.providers import (
    ScriptedLanguageModel,
    ScriptedSpeechToText,
    ScriptedSttStream,
    ToneTextToSpeech,
)
from tests.unit.test_conversation_events import PacedLine, Recorder, feed

pytestmark = pytest.mark.unit


class StallingModel:
    """Says its first word, then nothing more."""

    name = "groq"

    async def stream(
        self, messages: list[ChatMessage], tools: list[ToolSpec], options: GenerationOptions
    ) -> AsyncIterator[LlmEvent]:
        yield TextDelta("We ")
        await asyncio.Event().wait()


class StallingVoice:
    """Sends a sentence's first 100 ms, then nothing more."""

    name = "elevenlabs"

    def output_format(self, preferred: AudioFormat) -> AudioFormat:
        return MULAW_8K

    async def synthesize(
        self, text: str, voice_id: str, audio_format: AudioFormat
    ) -> AsyncIterator[AudioChunk]:
        yield AudioChunk(bytes(800), MULAW_8K)
        await asyncio.Event().wait()


class QuietAfterInterims:
    """A recognizer stream that sends interims while the caller talks and no final."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[Transcript] = asyncio.Queue()
        self.closed = False

    async def push_audio(self, frame: bytes) -> None:
        return None

    async def finalize(self) -> None:
        return None  # asked for its final, it says nothing more

    async def transcripts(self) -> AsyncIterator[Transcript]:
        while True:
            yield await self.queue.get()

    async def aclose(self) -> None:
        self.closed = True


class QuietRecognizer:
    name = "deepgram"

    def __init__(self) -> None:
        self.stream = QuietAfterInterims()

    async def open_stream(self, language: str) -> QuietAfterInterims:
        return self.stream


async def test_a_model_that_stalls_after_its_first_token_fails_within_the_timeout() -> None:
    model = FallbackLanguageModel(
        Chain(
            "llm", [StallingModel(), ScriptedLanguageModel(lambda m: "hi")], CircuitBreakers(), "o"
        ),
        first_token_timeout_s=0.2,
    )
    started, heard = time.monotonic(), list[LlmEvent]()

    async def listen() -> None:
        async for event in model.stream([], [], GenerationOptions()):
            heard.append(event)

    with pytest.raises(ProviderError, match="stopped: timed out"):
        await listen()
    assert heard == [TextDelta("We ")]
    assert time.monotonic() - started < 1.0
    assert model.name == "scripted"  # the next turn is answered by the next model


async def test_a_voice_that_stalls_mid_sentence_fails_within_the_timeout() -> None:
    chain = Chain("tts", [StallingVoice(), ToneTextToSpeech()], CircuitBreakers(), "o")
    voice = FallbackTextToSpeech(chain, 0.2, {})
    started, chunks = time.monotonic(), list[AudioChunk]()

    async def listen() -> None:
        async for chunk in voice.synthesize("We open at nine.", "v", MULAW_8K):
            chunks.append(chunk)

    with pytest.raises(ProviderError, match="voice failed: timed out"):
        await listen()
    assert len(chunks) == 1
    assert time.monotonic() - started < 1.0
    assert voice.name == "tone"  # the next sentence is spoken by the next voice


async def test_a_recognizer_quiet_after_its_interims_is_replaced_when_its_final_is_overdue() -> (
    None
):
    quiet = QuietRecognizer()
    stt = FallbackSpeechToText(
        Chain("stt", [quiet, ScriptedSpeechToText(["hello"])], CircuitBreakers(), "o"), 1.0, 0.3
    )
    stream = await stt.open_stream("en")
    seen: list[Transcript] = []

    async def listen() -> None:
        async for transcript in stream.transcripts():
            seen.append(transcript)

    listening = asyncio.create_task(listen())
    quiet.stream.queue.put_nowait(Transcript("when do you", is_final=False))
    await asyncio.sleep(0.05)  # the loop now waits for the next transcript, with no deadline
    asked = time.monotonic()
    await stream.finalize()
    while not any(t.recognizer_lost for t in seen):
        assert time.monotonic() - asked < 1.5, seen
        await asyncio.sleep(0.01)
    assert 0.25 < time.monotonic() - asked < 1.0
    assert stt.name == "scripted"
    assert quiet.stream.closed
    await stream.aclose()
    listening.cancel()


def session_on(
    stt: object, options: EngineOptions, fallback: str = "Say again?"
) -> tuple[CallSession, Recorder]:
    config = AgentConfig()
    config.conversation_config.agent.first_message = ""
    config.velox.fallback_message = fallback
    line, recorder = PacedLine(), Recorder()
    session = CallSession(
        context=CallContext(call_id="conv_1", organization_id="org_1", agent_id="agent_1"),
        config=config,
        providers=ProviderSet(
            vad=EnergyVad(),
            stt=stt,  # type: ignore[arg-type]
            llm=ScriptedLanguageModel(lambda m: "We open at nine."),
            tts=ToneTextToSpeech(),
        ),
        transport=line,
        recorder=recorder,
        options=options,
    )
    line.session = session
    line.started = asyncio.get_running_loop().time()
    return session, recorder


async def test_words_lost_with_the_recognizer_make_the_agent_ask_again() -> None:
    quiet = QuietRecognizer()
    stt = FallbackSpeechToText(
        Chain("stt", [quiet, ScriptedSpeechToText([])], CircuitBreakers(), "o"), 1.0, 0.3
    )
    session, recorder = session_on(stt, EngineOptions())
    await session.start()
    await feed(session, speech_like(0.8) + bytes(640 * 75))  # ask, then 1.5 s of listening
    await session.close("test_over")

    record = recorder.records[0]
    assert "stt_recognizer_lost" in [event.kind for event in record.events]
    said = [(turn.message, turn.source) for turn in record.turns if turn.role == "agent"]
    assert said == [("Say again?", "fallback")]


class StuckOnClose(ScriptedSpeechToText):
    """A recognizer whose streams never finish closing."""

    async def open_stream(self, language: str) -> ScriptedSttStream:
        stream = await super().open_stream(language)

        async def never() -> None:
            await asyncio.Event().wait()

        stream.aclose = never  # type: ignore[method-assign]
        return stream


async def test_a_recognizer_that_stalls_on_close_does_not_hold_up_the_save() -> None:
    session, recorder = session_on(StuckOnClose([]), EngineOptions(provider_close_timeout_s=0.2))
    await session.start()
    await asyncio.sleep(0.1)
    started = time.monotonic()
    async with asyncio.timeout(10):  # unbounded, this close would wait for ever
        await session.close("caller_hung_up")
    assert time.monotonic() - started < 2.0
    assert len(recorder.records) == 1
    record = recorder.records[0]
    assert record.metrics["counters"]["provider_close_timeouts"] == 1
    assert [e.data for e in record.events if e.kind == "provider_close_timeout"] == [
        {"role": "stt"}
    ]
