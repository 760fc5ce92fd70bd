"""Registers the providers that ship with Velox. One line per provider.

Heavy model libraries are imported inside the factories, so a provider that is never chosen
never loads, and a machine missing one of them still starts.
"""

from __future__ import annotations

from app.providers.base import LanguageModel, TextToSpeech
from app.providers.energy_vad import EnergyVad
from app.providers.registry import ProviderRegistry
from app.providers.silero_vad import SileroVad
from app.providers.whisper_stt import WhisperSpeechToText
from app.settings import Settings


def _smollm2() -> LanguageModel:
    from app.providers.llama_llm import LlamaLanguageModel

    return LlamaLanguageModel()


def _piper() -> TextToSpeech:
    from app.providers.piper_tts import PiperTextToSpeech

    return PiperTextToSpeech()


def register_builtin_providers(registry: ProviderRegistry, settings: Settings) -> None:
    def openai_compatible() -> LanguageModel:
        from app.providers.openai_llm import OpenAiCompatibleLanguageModel

        return OpenAiCompatibleLanguageModel(
            base_url=settings.openai_base_url,
            api_key=settings.openai_api_key,
            model=settings.openai_model,
        )

    registry.vad.register("energy", EnergyVad)
    registry.vad.register("silero", SileroVad)
    registry.stt.register("whisper", WhisperSpeechToText)
    registry.llm.register("smollm2", _smollm2)
    registry.llm.register("openai", openai_compatible)
    registry.tts.register("piper", _piper)
