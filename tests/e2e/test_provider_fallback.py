"""A provider that hangs mid-call: the caller hears the fallback line in time, and the next turn
is answered by the next provider of the agent's chain (through a Twilio-protocol call)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.config.agent import AgentConfig, FallbackChoice, ProviderChoice
from app.providers.base import ChatMessage
from app.providers.energy.vad import EnergyVad
from app.providers.registry import ProviderRegistry
from tests.e2e.voice_service import RunningService, running_service
from tests.fakes.providers import ScriptedLanguageModel, ScriptedSpeechToText, ToneTextToSpeech
from tests.models.spoken import speak
from tests.twilio_caller import TwilioCaller

pytestmark = pytest.mark.e2e

FALLBACK = "Sorry, one moment please, could you say that again?"
TIMEOUT_MS = 800


def backup_reply(messages: list[ChatMessage]) -> str:
    return "The backup model answers: we open at nine."


@pytest.fixture
def stack() -> tuple[ScriptedLanguageModel, ScriptedLanguageModel, ToneTextToSpeech]:
    hanging = ScriptedLanguageModel(lambda m: "never", hang=True, name="primary")
    backup = ScriptedLanguageModel(backup_reply, name="backup")
    return hanging, backup, ToneTextToSpeech()


@pytest.fixture
def service(
    tmp_path: Path, stack: tuple[ScriptedLanguageModel, ScriptedLanguageModel, ToneTextToSpeech]
) -> Iterator[RunningService]:
    hanging, backup, tts = stack
    stt = ScriptedSpeechToText(["What are your hours?", "What time do you open today?"])
    registry = ProviderRegistry()
    registry.vad.register("energy", EnergyVad)
    registry.stt.register(stt.name, lambda: stt)
    registry.llm.register("primary", lambda: hanging)
    registry.llm.register("backup", lambda: backup)
    registry.tts.register(tts.name, lambda: tts)
    config = AgentConfig(name="Resilient desk")
    config.conversation_config.agent.first_message = "Hello."
    config.velox.providers = ProviderChoice(vad="energy", stt=stt.name, llm="primary", tts="tone")
    config.velox.fallbacks = FallbackChoice(llm=["backup"])
    config.velox.provider_timeouts.llm_first_token_ms = TIMEOUT_MS
    config.velox.fallback_message = FALLBACK
    with running_service(tmp_path, config=config, registry=registry) as running:
        yield running


async def ask(caller: TwilioCaller, text: str) -> float:
    """Say `text` and return when the caller stopped speaking."""
    await caller.play(speak(text))
    return time.monotonic()


async def test_a_hanging_model_gives_the_fallback_line_then_the_backup_answers(
    service: RunningService,
    stack: tuple[ScriptedLanguageModel, ScriptedLanguageModel, ToneTextToSpeech],
) -> None:
    hanging, backup, tts = stack
    stream_url, parameters = service.dial()
    async with TwilioCaller(
        stream_url, custom_parameters=parameters, headers=service.stream_headers(stream_url)
    ) as caller:
        await caller.silence(0.3)
        await caller.wait_for_audio(timeout=3)
        await caller.silence(1.0)

        heard = len(caller.media)
        stopped = await ask(caller, "What are your hours?")
        listening = asyncio.create_task(caller.silence(4.0))
        await caller.wait_for(lambda: len(caller.media) > heard, timeout=4)
        fallback_heard_after = caller.media[heard].at - stopped
        await listening

        await ask(caller, "What time do you open today?")
        await caller.silence(3.0)

    # end of turn (a question: 300 ms) + the model's deadline + speaking the line
    assert fallback_heard_after < (300 + TIMEOUT_MS + 700) / 1000
    assert FALLBACK in " ".join(tts.spoken)
    assert len(hanging.requests) == 1
    assert len(backup.requests) == 1
    body = service.ended_conversation(parameters["conversation_id"])
    failures = [e for e in body["velox"]["events"] if e["kind"] == "provider_failed"]
    assert failures[0]["data"]["provider"] == "primary"
    assert failures[0]["data"]["fallback"] == "backup"
    agent_lines = [t["message"] for t in body["transcript"] if t["role"] == "agent"]
    assert FALLBACK in agent_lines
    assert backup_reply([]) in agent_lines
    with contextlib.suppress(KeyError):
        assert body["velox"]["metrics"]["counters"]["provider_failures"] == 1
