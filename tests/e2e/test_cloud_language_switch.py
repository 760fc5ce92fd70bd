"""`language_detection` on the cloud stack: Groq calls the tool, Deepgram is asked for a new
stream in the preset's language and ElevenLabs for the preset's voice, each through its wire
double, and the answer is spoken in that voice."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.config.agent import AgentConfig, FallbackChoice, ProviderChoice
from app.providers.builtin import register_builtin_providers
from app.providers.registry import ProviderRegistry
from app.settings import Settings
from tests.e2e.test_cloud_stack_call import DEEPGRAM_KEY, GROQ_KEY
from tests.e2e.voice_service import ask_after_the_greeting, running_service
from tests.fakes.cloud.deepgram import DeepgramLiveDouble, DeepgramScript
from tests.fakes.cloud.elevenlabs import VALID_KEY as ELEVENLABS_KEY
from tests.fakes.cloud.elevenlabs import ElevenLabsDouble
from tests.fakes.cloud.groq import GroqChatDouble, GroqScript, ScriptedToolCall
from tests.models.spoken import speak

pytestmark = pytest.mark.e2e

SWITCH = ScriptedToolCall(
    "call_language",
    "language_detection",
    '{"language": "es", "reason": "the caller speaks Spanish"}',
)
ANSWER = ["Claro,", " le ayudo."]


def bilingual_agent() -> AgentConfig:
    config = AgentConfig.model_validate(
        {
            "name": "Cloud desk",
            "conversation_config": {
                "agent": {
                    "first_message": "Hello, Acme.",
                    "language": "en",
                    "prompt": {
                        "built_in_tools": {
                            "language_detection": {
                                "type": "system",
                                "name": "language_detection",
                                "params": {"system_tool_type": "language_detection"},
                            }
                        }
                    },
                },
                "tts": {"voice_id": "voice-en"},
                "language_presets": {
                    "es": {
                        "overrides": {
                            "agent": {"prompt": {"prompt": "Eres Desk; contesta en español."}},
                            "tts": {"voice_id": "voice-es"},
                        }
                    }
                },
            },
        }
    )
    config.velox.providers = ProviderChoice(
        vad="energy", stt="deepgram", llm="groq", tts="elevenlabs"
    )
    config.velox.fallbacks = FallbackChoice(stt=[], llm=[], tts=[])
    return config


async def test_a_language_switch_asks_deepgram_and_elevenlabs_for_the_new_language_and_voice(
    tmp_path: Path,
) -> None:
    script = DeepgramScript(utterances=["hola necesito ayuda"])
    with (
        DeepgramLiveDouble(DEEPGRAM_KEY, script) as deepgram,
        GroqChatDouble(GROQ_KEY, GroqScript(text=[], tool_calls=[SWITCH])) as groq,
    ):
        groq.then = [GroqScript(text=list(ANSWER))]
        async with ElevenLabsDouble() as elevenlabs:
            endpoints = Settings(
                deepgram_base_url=deepgram.base_url,
                groq_base_url=groq.base_url,
                elevenlabs_base_url=elevenlabs.base_url,
            )
            registry = ProviderRegistry()
            register_builtin_providers(registry, endpoints)
            with running_service(tmp_path, config=bilingual_agent(), registry=registry) as service:
                service.set_provider_key("deepgram", DEEPGRAM_KEY)
                service.set_provider_key("groq", GROQ_KEY)
                service.set_provider_key("elevenlabs", ELEVENLABS_KEY)
                body = await ask_after_the_greeting(
                    service, speak("Hola, necesito ayuda."), listen_s=6.0, answer_timeout=8
                )

    assert [c.query["language"] for c in deepgram.connections] == ["en", "es"]
    voices = [c.path.split("/")[3] for c in elevenlabs.connections]
    assert voices[0] == "voice-en"
    assert "voice-es" in voices
    spanish = [c for c in elevenlabs.connections if c.path.split("/")[3] == "voice-es"]
    said = "".join(str(m.get("text", "")) for c in spanish for m in c.messages)
    assert "le ayudo" in said
    assert [e["kind"] for e in body["velox"]["events"]].count("language_switched") == 1
    second = groq.requests[1].body["messages"]
    assert second[0]["content"].startswith("Eres Desk")
    assert ("agent", "".join(ANSWER)) in [(t["role"], t["message"]) for t in body["transcript"]]
