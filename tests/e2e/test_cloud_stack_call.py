"""A phone call on the cloud stack: Deepgram hears, Groq answers, ElevenLabs speaks.

Each service is a local double of its wire format; the service reaches them through the
`VELOX_*_BASE_URL` settings with the organization's keys, stored through the API.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from app.config.agent import AgentConfig, FallbackChoice, ProviderChoice
from app.providers.builtin import register_builtin_providers
from app.providers.registry import ProviderRegistry
from app.settings import Settings
from tests.e2e.voice_service import running_service
from tests.fakes.cloud.deepgram import DeepgramLiveDouble, DeepgramScript
from tests.fakes.cloud.elevenlabs import VALID_KEY as ELEVENLABS_KEY
from tests.fakes.cloud.elevenlabs import ElevenLabsDouble
from tests.fakes.cloud.groq import GroqChatDouble, GroqScript
from tests.models.spoken import speak
from tests.twilio_caller import TwilioCaller

pytestmark = pytest.mark.e2e

DEEPGRAM_KEY = "test-deepgram-key"
GROQ_KEY = "test-groq-key-0123"
ANSWER = ["We open", " at nine", " on weekdays."]


def lowered(headers: dict[str, str]) -> dict[str, str]:
    return {name.lower(): value for name, value in headers.items()}


@pytest.mark.timing
async def test_a_call_runs_on_deepgram_groq_and_elevenlabs_with_the_organizations_keys(
    tmp_path: Path,
) -> None:
    script = DeepgramScript(utterances=["what are your opening hours"])
    with (
        DeepgramLiveDouble(DEEPGRAM_KEY, script) as deepgram,
        GroqChatDouble(GROQ_KEY, GroqScript(text=ANSWER)) as groq,
    ):
        async with ElevenLabsDouble() as elevenlabs:
            endpoints = Settings(
                deepgram_base_url=deepgram.base_url,
                groq_base_url=groq.base_url,
                elevenlabs_base_url=elevenlabs.base_url,
            )
            registry = ProviderRegistry()
            register_builtin_providers(registry, endpoints)
            config = AgentConfig(name="Cloud desk")
            config.conversation_config.agent.first_message = "Hello, Acme."
            config.conversation_config.tts.voice_id = "voice-1"
            config.velox.providers = ProviderChoice(
                vad="energy", stt="deepgram", llm="groq", tts="elevenlabs"
            )
            config.velox.fallbacks = FallbackChoice(stt=[], llm=[], tts=[])
            with running_service(tmp_path, config=config, registry=registry) as service:
                service.set_provider_key("deepgram", DEEPGRAM_KEY)
                service.set_provider_key("groq", GROQ_KEY)
                service.set_provider_key("elevenlabs", ELEVENLABS_KEY)
                stream_url, parameters = service.dial()
                async with TwilioCaller(
                    stream_url,
                    custom_parameters=parameters,
                    headers=service.stream_headers(stream_url),
                ) as caller:
                    await caller.silence(0.3)
                    await caller.wait_for_audio(timeout=5)
                    await caller.silence(1.5)
                    heard = caller.audio_frames
                    await caller.play(speak("What are your opening hours?"))
                    started = time.monotonic()
                    listening = asyncio.create_task(caller.silence(5.0))
                    await caller.wait_for(lambda: caller.audio_frames > heard + 25, timeout=5)
                    answered_after = time.monotonic() - started
                    await listening
                body = await asyncio.to_thread(
                    service.ended_conversation, parameters["conversation_id"]
                )

    turns = [(t["role"], t["message"]) for t in body["transcript"]]
    assert ("user", "what are your opening hours") in turns
    assert ("agent", "".join(ANSWER)) in turns
    assert answered_after < 3.0
    user = next(t for t in body["transcript"] if t["role"] == "user")
    agent = next(t for t in body["transcript"] if t["message"] == "".join(ANSWER))
    assert user["velox_metrics"]["stt_provider"] == "deepgram"
    assert user["velox_metrics"]["llm_first_token_ms"] is not None
    assert (agent["velox_metrics"]["llm_provider"], agent["velox_metrics"]["tts_provider"]) == (
        "groq",
        "elevenlabs",
    )
    listen = deepgram.connections[0]
    assert lowered(listen.headers)["authorization"] == f"Token {DEEPGRAM_KEY}"
    assert listen.query["encoding"] == "linear16"
    assert listen.query["sample_rate"] == "16000"
    assert lowered(groq.requests[0].headers)["authorization"] == f"Bearer {GROQ_KEY}"
    formats = {c.query.get("output_format") for c in elevenlabs.connections}
    assert formats == {"ulaw_8000"}  # a phone line: mu-law straight from the voice service
    sessions = [c for c in elevenlabs.connections if c.path.endswith("multi-stream-input")]
    assert len(sessions) == 1  # one connection for the call's answers
