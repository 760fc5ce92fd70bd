"""An organization's provider keys never reach a log line, the API's output or the database in
the clear (issue 13, class 6), even when a provider echoes the key back in its error body and
the websockets client logs request headers at DEBUG."""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from app.config.agent import AgentConfig, FallbackChoice, ProviderChoice
from app.providers.builtin import register_builtin_providers
from app.providers.energy.vad import EnergyVad
from app.providers.registry import ProviderRegistry
from app.settings import Settings
from tests.e2e.voice_service import RunningService, running_service
from tests.fakes.cloud.elevenlabs import VALID_KEY as ELEVENLABS_KEY
from tests.fakes.cloud.elevenlabs import ElevenLabsDouble
from tests.fakes.cloud.groq import GroqChatDouble, GroqScript, Refusal
from tests.fakes.providers import ScriptedSpeechToText
from tests.models.spoken import speak
from tests.twilio_caller import TwilioCaller

pytestmark = pytest.mark.e2e

GROQ_KEY = "gsk_leaky_0123456789abcdef"


def echoing_refusal() -> Refusal:
    """A provider that puts the request's credentials into its error message."""
    return Refusal(
        500,
        f"upstream failed for request headers {{'Authorization': 'Bearer {GROQ_KEY}'}}; "
        f"key {GROQ_KEY} was rate limited",
        "internal_server_error",
    )


@contextmanager
def leaky_service(
    tmp_path: Path, groq: GroqChatDouble, elevenlabs: ElevenLabsDouble
) -> Iterator[RunningService]:
    """The service with an agent on Groq (whose double echoes its key) and ElevenLabs, both
    organization keys stored."""
    registry = ProviderRegistry()
    register_builtin_providers(
        registry, Settings(groq_base_url=groq.base_url, elevenlabs_base_url=elevenlabs.base_url)
    )
    registry.vad.register("energy", EnergyVad)
    stt = ScriptedSpeechToText(["what are your opening hours"])
    registry.stt.register(stt.name, lambda: stt)
    config = AgentConfig(name="Leaky")
    config.conversation_config.agent.first_message = "Hello."
    config.conversation_config.tts.voice_id = "voice-1"
    config.velox.providers = ProviderChoice(
        vad="energy", stt=stt.name, llm="groq", tts="elevenlabs"
    )
    config.velox.fallbacks = FallbackChoice(stt=[], llm=[], tts=[])
    with running_service(tmp_path, config=config, registry=registry) as service:
        service.set_provider_key("groq", GROQ_KEY)
        service.set_provider_key("elevenlabs", ELEVENLABS_KEY)
        yield service


async def ask_opening_hours(service: RunningService) -> dict[str, Any]:
    """A Twilio call that asks one question; the conversation once saved."""
    stream_url, parameters = service.dial()
    async with TwilioCaller(
        stream_url, custom_parameters=parameters, headers=service.stream_headers(stream_url)
    ) as caller:
        await caller.silence(0.3)
        await caller.wait_for_audio(timeout=5)
        await caller.silence(1.0)
        await caller.play(speak("What are your opening hours?"))
        await caller.silence(3.0)
    return await asyncio.to_thread(service.ended_conversation, parameters["conversation_id"])


async def test_keys_echoed_by_a_provider_or_logged_by_a_client_are_redacted_everywhere(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with GroqChatDouble(GROQ_KEY, GroqScript(refuse=echoing_refusal())) as groq:
        async with ElevenLabsDouble() as elevenlabs:
            with leaky_service(tmp_path, groq, elevenlabs) as service:
                conversation = json.dumps(await ask_opening_hours(service))
                database = service.settings.resolved_database_url().removeprefix("sqlite:///")

    assert groq.requests, "the LLM was never asked: the test did not reach the leaky provider"
    assert "[redacted]" in conversation  # the provider's error is there, its key is not
    stored = "\n".join(sqlite3.connect(database).iterdump())
    logs = caplog.text
    for key in (GROQ_KEY, ELEVENLABS_KEY):
        assert key not in conversation
        assert key not in stored
        assert key not in logs
