"""Fallback chains: a slow or failing provider moves the call to the next one, never silence."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from app.audio.formats import MULAW_8K, AudioChunk
from app.config.agent import AgentConfig, FallbackChoice
from app.providers.base import GenerationOptions, ProviderError, TextDelta, Transcript
from app.providers.call_providers import chain_names, providers_for_call
from app.providers.fallback.breakers import Admission, CircuitBreakers
from app.providers.fallback.chain import Chain, FallbackLanguageModel, open_with_retries
from app.providers.fallback.stt import FallbackSpeechToText
from app.providers.fallback.voice import FallbackTextToSpeech
from app.providers.registry import MissingKeyError, ProviderRegistry
from tests.fakes.providers import ScriptedLanguageModel, ToneTextToSpeech

pytestmark = pytest.mark.unit

OPTIONS = GenerationOptions()


class Log:
    def __init__(self) -> None:
        self.events: list[tuple[str, dict[str, Any]]] = []

    def event(self, kind: str, **data: Any) -> None:
        self.events.append((kind, data))

    def count(self, name: str, n: int = 1) -> None:
        return None


def llm(name: str, **behaviour: Any) -> ScriptedLanguageModel:
    return ScriptedLanguageModel(lambda messages: f"{name} answers", name=name, **behaviour)


async def answer(model: FallbackLanguageModel) -> str:
    return "".join(
        [e.text async for e in model.stream([], [], OPTIONS) if isinstance(e, TextDelta)]
    )


async def test_a_hanging_model_fails_the_turn_in_time_and_the_next_turn_uses_the_next() -> None:
    log = Log()
    chain = Chain("llm", [llm("groq", hang=True), llm("smollm2")], CircuitBreakers(), "org")
    chain.observer = log
    model = FallbackLanguageModel(chain, first_token_timeout_s=0.2)
    started = time.monotonic()
    with pytest.raises(ProviderError):
        await answer(model)
    assert time.monotonic() - started < 1.5  # the model hangs for ever; its timeout is 0.2 s
    assert model.name == "smollm2"
    assert (await answer(model)).strip() == "smollm2 answers"
    kind, data = log.events[0]
    assert kind == "provider_failed"
    assert data["provider"] == "groq"
    assert data["fallback"] == "smollm2"
    assert data["error"] == "timed out"


async def test_a_model_failing_mid_answer_is_replaced_for_the_next_turn() -> None:
    chain = Chain(
        "llm", [llm("groq", fail_after_tokens=1), llm("smollm2")], CircuitBreakers(), "org"
    )
    model = FallbackLanguageModel(chain, first_token_timeout_s=1.0)
    with pytest.raises(ProviderError):
        await answer(model)
    assert model.name == "smollm2"


async def speak(voice: FallbackTextToSpeech, text: str) -> list[AudioChunk]:
    return [chunk async for chunk in voice.synthesize(text, "v1", voice.output_format(MULAW_8K))]


async def test_a_voice_failing_before_any_audio_is_replaced_within_the_same_sentence() -> None:
    broken = ToneTextToSpeech(fail_on="Hello", name="elevenlabs")
    backup = ToneTextToSpeech(name="piper")
    voice = FallbackTextToSpeech(
        Chain("tts", [broken, backup], CircuitBreakers(), "org"), 1.0, {"piper": "joe"}
    )
    chunks = await speak(voice, "Hello there.")
    assert chunks
    assert backup.spoken == ["Hello there."]
    assert voice.name == "piper"


async def test_a_slow_voice_is_abandoned_after_its_deadline_when_another_is_left() -> None:
    slow = ToneTextToSpeech(first_byte_delay_s=2.0, name="cartesia")
    backup = ToneTextToSpeech(name="piper")
    voice = FallbackTextToSpeech(Chain("tts", [slow, backup], CircuitBreakers(), "org"), 0.1, {})
    started = time.monotonic()
    await speak(voice, "Hi.")
    assert time.monotonic() - started < 1.5  # the slow voice's first byte would take 2 s
    assert backup.spoken == ["Hi."]


async def test_the_last_voice_is_waited_for_rather_than_abandoned() -> None:
    only = ToneTextToSpeech(first_byte_delay_s=0.3, name="piper")
    voice = FallbackTextToSpeech(Chain("tts", [only], CircuitBreakers(), "org"), 0.05, {})
    assert await speak(voice, "Hi.")


@dataclass
class FlakyRecognizer:
    """A recognizer that may refuse to connect, or whose stream breaks after some transcripts."""

    name: str
    refuse_with: int | None = None
    refusals: int = 0
    break_after: int | None = None
    texts: list[str] = field(default_factory=lambda: ["hello"])
    opened: int = 0

    async def open_stream(self, language: str) -> Any:
        self.opened += 1
        if self.refuse_with is not None and self.opened <= self.refusals:
            raise ProviderError(self.name, "refused", status=self.refuse_with)
        return FlakyStream(self)


class FlakyStream:
    def __init__(self, owner: FlakyRecognizer) -> None:
        self._owner = owner
        self._queue: asyncio.Queue[Transcript | None] = asyncio.Queue()

    async def push_audio(self, frame: bytes) -> None:
        return None

    async def finalize(self) -> None:
        for text in self._owner.texts:
            self._queue.put_nowait(Transcript(text, is_final=True))

    async def transcripts(self) -> AsyncIterator[Transcript]:
        sent = 0
        while (item := await self._queue.get()) is not None:
            if self._owner.break_after is not None and sent >= self._owner.break_after:
                raise ProviderError(self._owner.name, "stream reset")
            sent += 1
            yield item

    async def aclose(self) -> None:
        self._queue.put_nowait(None)


async def test_set_up_is_retried_when_the_failure_may_pass_and_not_for_a_bad_key() -> None:
    busy = FlakyRecognizer("deepgram", refuse_with=503, refusals=1)
    stt = FallbackSpeechToText(
        Chain("stt", [busy, FlakyRecognizer("whisper")], CircuitBreakers(), "org"), 1.0, 1.0
    )
    await stt.open_stream("en")
    assert (busy.opened, stt.name) == (2, "deepgram")

    unauthorized = FlakyRecognizer("deepgram", refuse_with=401, refusals=9)
    stt = FallbackSpeechToText(
        Chain("stt", [unauthorized, FlakyRecognizer("whisper")], CircuitBreakers(), "org"),
        1.0,
        1.0,
    )
    await stt.open_stream("en")
    assert (unauthorized.opened, stt.name) == (1, "whisper")


async def test_a_broken_recognizer_stream_is_replaced_and_listening_goes_on() -> None:
    primary = FlakyRecognizer("deepgram", break_after=0)
    backup = FlakyRecognizer("whisper", texts=["from whisper"])
    stt = FallbackSpeechToText(Chain("stt", [primary, backup], CircuitBreakers(), "org"), 1, 1)
    stream = await stt.open_stream("en")
    heard: list[str] = []

    async def listen() -> None:
        async for transcript in stream.transcripts():
            heard.append("<lost>" if transcript.recognizer_lost else transcript.text)

    listening = asyncio.create_task(listen())
    await stream.finalize()  # the primary breaks on its first transcript
    for _ in range(50):
        if stt.name == "whisper":
            break
        await asyncio.sleep(0.01)
    await stream.finalize()
    for _ in range(50):
        if "from whisper" in heard:
            break
        await asyncio.sleep(0.01)
    await stream.aclose()
    await listening
    assert heard == ["<lost>", "from whisper"]  # the engine is told the words in flight are lost


def test_breakers_open_after_repeated_failures_and_let_one_try_through_after_the_cooldown() -> None:
    now = [0.0]
    breakers = CircuitBreakers(failure_threshold=3, cooldown_s=30, clock=lambda: now[0])
    for _ in range(3):
        breakers.record_failure("groq", "org-a")
    assert breakers.is_open("groq", "org-a")
    assert breakers.allows("groq", "org-b")  # another organization's key is another story
    chain = Chain("llm", [llm("groq"), llm("smollm2")], breakers, "org-a")
    assert chain.name == "smollm2"  # a new call starts past the open breaker
    now[0] = 31.0
    assert breakers.allows("groq", "org-a")
    assert breakers.admit("groq", "org-a") is Admission.TRIAL
    breakers.record_success("groq", "org-a", trial=True)
    assert not breakers.is_open("groq", "org-a")


async def test_set_up_retries_give_up_after_the_last_attempt() -> None:
    attempts = 0

    async def refuse() -> None:
        nonlocal attempts
        attempts += 1
        raise ProviderError("x", "busy", status=429)

    with pytest.raises(ProviderError):
        await open_with_retries(refuse, timeout_s=1.0, attempts=2)
    assert attempts == 2


def registry() -> ProviderRegistry:
    providers = ProviderRegistry()
    providers.vad.register("energy", lambda: object())  # type: ignore[arg-type,return-value]
    for name in ("whisper", "deepgram"):
        providers.stt.register(name, lambda name=name: FlakyRecognizer(name))  # type: ignore[misc]
    providers.llm.register("smollm2", lambda: llm("smollm2"))
    providers.llm.register_cloud("groq", lambda key: llm(f"groq:{key}"))
    providers.tts.register("piper", lambda: ToneTextToSpeech(name="piper"))
    providers.tts.register_cloud("cartesia", lambda key: ToneTextToSpeech(name="cartesia"))
    return providers


def test_a_cloud_choice_falls_back_to_the_offline_provider_by_default() -> None:
    providers = registry()
    assert chain_names(providers.llm, "groq", None, "smollm2") == ["groq", "smollm2"]
    assert chain_names(providers.llm, "smollm2", None, "smollm2") == ["smollm2"]
    assert chain_names(providers.tts, "cartesia", ["piper"], "piper") == ["cartesia", "piper"]
    assert chain_names(providers.tts, "cartesia", [], "piper") == ["cartesia"]


def test_cloud_providers_use_the_organizations_key_and_need_one() -> None:
    providers = registry()
    config = AgentConfig()
    config.velox.providers.vad = "energy"
    config.velox.providers.llm = "groq"
    call = providers_for_call(
        providers, config, keys={"groq": "k1"}, breakers=CircuitBreakers(), scope="org"
    )
    assert call.llm.name == "groq:k1"
    without_key = providers_for_call(
        providers, config, keys={}, breakers=CircuitBreakers(), scope="org"
    )
    assert without_key.llm.name == "smollm2"
    assert "PUT /v1/provider-keys/groq" in without_key.unavailable[0]
    config.velox.fallbacks = FallbackChoice(llm=[])
    with pytest.raises(MissingKeyError):
        providers_for_call(providers, config, keys={}, breakers=CircuitBreakers(), scope="org")
