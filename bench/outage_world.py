"""The provider-outage run's world: the cloud stack (Deepgram, Groq, ElevenLabs doubles speaking
their wire formats) failing a seeded share of requests, and the real service answering calls.

Each cloud role has a fallback that does not fail (the test doubles of `tests.fakes.providers`,
standing in for the offline providers), so what is measured is the resilience layer: timeouts,
fallback chains, the agent's fallback line and the circuit breakers, not a second provider's luck.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import ExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from app.config.agent import AgentConfig, FallbackChoice, ProviderChoice, ProviderTimeouts
from app.providers.builtin import register_builtin_providers
from app.providers.fallback.breakers import CircuitBreakers
from app.providers.registry import ProviderRegistry
from app.settings import Settings
from tests.e2e.voice_service import RunningService, running_service
from tests.fakes.cloud.deepgram import DeepgramLiveDouble, DeepgramScript
from tests.fakes.cloud.elevenlabs import VALID_KEY as ELEVENLABS_KEY
from tests.fakes.cloud.elevenlabs import ElevenLabsDouble
from tests.fakes.cloud.faults import FaultPlan
from tests.fakes.cloud.groq import GroqChatDouble, GroqScript
from tests.fakes.providers import ScriptedLanguageModel, ScriptedSpeechToText, ToneTextToSpeech

DEEPGRAM_KEY = "outage-deepgram-key"
GROQ_KEY = "outage-groq-key"
GREETING = "Hello, Acme."
QUESTION = "what are your opening hours?"
ANSWER = ["We open at nine.", " We close at five."]
BACKUP_ANSWER = "The backup says we open at nine."
FALLBACK = "Sorry, one moment please. Could you say that again?"
# The agent's "complete" end-of-turn window: the question ends in "?".
END_OF_TURN_MS = 280
MARGIN_MS = 500
ROLES = ("stt", "llm", "tts")


@dataclass(frozen=True, slots=True)
class OutageSetting:
    calls: int = 100
    concurrency: int = 20
    questions: int = 3
    fault_rate: float = 0.3
    seed: int = 21
    stt_final_ms: int = 700
    llm_first_token_ms: int = 1000
    tts_first_byte_ms: int = 800
    breaker_failures: int = 2
    breaker_cooldown_s: float = 3.0

    @property
    def timeouts(self) -> ProviderTimeouts:
        return ProviderTimeouts(
            stt_final_ms=self.stt_final_ms,
            llm_first_token_ms=self.llm_first_token_ms,
            tts_first_byte_ms=self.tts_first_byte_ms,
        )

    @property
    def silence_budget_ms(self) -> int:
        """The longest silence a caller may meet after a question: the end-of-turn window, the
        provider timeouts that can stand in series on one turn (a recognizer or a model that
        fails, then the voice that would speak the fallback line), plus the 500 ms margin."""
        first = max(self.stt_final_ms, self.llm_first_token_ms)
        return END_OF_TURN_MS + first + self.tts_first_byte_ms + MARGIN_MS


@dataclass
class OutageWorld:
    setting: OutageSetting
    service: RunningService
    plans: dict[str, FaultPlan]

    @property
    def breakers(self) -> CircuitBreakers:
        breakers: CircuitBreakers = self.service.app.state.voice.breakers
        return breakers

    def faults(self, enabled: bool) -> None:
        for plan in self.plans.values():
            plan.enabled = enabled


def agent_config(setting: OutageSetting) -> AgentConfig:
    config = AgentConfig(name="Outage desk")
    config.conversation_config.agent.first_message = GREETING
    config.conversation_config.tts.voice_id = "voice-1"
    config.velox.providers = ProviderChoice(
        vad="energy", stt="deepgram", llm="groq", tts="elevenlabs"
    )
    config.velox.fallbacks = FallbackChoice(stt=["scripted"], llm=["scripted"], tts=["tone"])
    config.velox.provider_timeouts = setting.timeouts
    config.velox.fallback_message = FALLBACK
    return config


def registry_for(endpoints: Settings, calls: int) -> ProviderRegistry:
    registry = ProviderRegistry()
    register_builtin_providers(registry, endpoints)
    backup_stt = ScriptedSpeechToText([QUESTION] * (calls * 20))
    backup_llm = ScriptedLanguageModel(lambda messages: BACKUP_ANSWER)
    backup_tts = ToneTextToSpeech(ms_per_char=20)
    registry.stt.register(backup_stt.name, lambda: backup_stt)
    registry.llm.register(backup_llm.name, lambda: backup_llm)
    registry.tts.register(backup_tts.name, lambda: backup_tts)
    return registry


@asynccontextmanager
async def outage_world(setting: OutageSetting, data_dir: Path) -> AsyncIterator[OutageWorld]:
    """The doubles (faults planned, on), the service on a real port, the organization's keys."""
    plans = {
        role: FaultPlan(setting.seed * 10 + n, setting.fault_rate) for n, role in enumerate(ROLES)
    }
    stack = ExitStack()
    try:
        deepgram = stack.enter_context(
            DeepgramLiveDouble(DEEPGRAM_KEY, DeepgramScript(utterances=[QUESTION] * 50))
        )
        groq = stack.enter_context(GroqChatDouble(GROQ_KEY, GroqScript(text=ANSWER)))
        async with ElevenLabsDouble() as elevenlabs:
            deepgram.faults, groq.faults, elevenlabs.faults = (
                plans["stt"],
                plans["llm"],
                plans["tts"],
            )
            endpoints = Settings(
                deepgram_base_url=deepgram.base_url,
                groq_base_url=groq.base_url,
                elevenlabs_base_url=elevenlabs.base_url,
            )
            serving = running_service(
                data_dir,
                config=agent_config(setting),
                registry=registry_for(endpoints, setting.calls),
                rate_limits_enabled=False,
                settings_overrides={
                    "twilio_auth_token": "",  # the bench's callers dial unsigned
                    "provider_breaker_failures": setting.breaker_failures,
                    "provider_breaker_cooldown_s": setting.breaker_cooldown_s,
                },
            )
            service = await asyncio.to_thread(serving.__enter__)
            try:
                service.set_provider_key("deepgram", DEEPGRAM_KEY)
                service.set_provider_key("groq", GROQ_KEY)
                service.set_provider_key("elevenlabs", ELEVENLABS_KEY)
                yield OutageWorld(setting, service, plans)
            finally:
                # Off this loop: the service closes its voice sessions with the ElevenLabs
                # double, which runs on this loop.
                await asyncio.to_thread(serving.__exit__, None, None, None)
    finally:
        for plan in plans.values():
            plan.released.set()  # hung requests end before their doubles stop
        stack.close()
