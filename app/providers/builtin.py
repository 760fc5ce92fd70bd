"""Registers the providers that ship with Velox. One line per provider.

Heavy model libraries are imported inside the factories, so a provider that is never chosen
never loads, and a machine missing one of them still starts.
"""

from __future__ import annotations

from app.providers.base import LanguageModel, SpeechToText, TextToSpeech
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
    def openai_compatible(api_key: str | None = None) -> LanguageModel:
        from app.providers.openai_llm import OpenAiCompatibleLanguageModel

        return OpenAiCompatibleLanguageModel(
            base_url=settings.openai_base_url,
            api_key=api_key or settings.openai_api_key,
            model=settings.openai_model,
        )

    def deepgram(api_key: str) -> SpeechToText:
        from app.providers.deepgram_stt import DeepgramSpeechToText

        return DeepgramSpeechToText(api_key, base_url=settings.deepgram_base_url)

    def groq(api_key: str) -> LanguageModel:
        from app.providers.groq_llm import GroqLanguageModel

        return GroqLanguageModel(api_key, base_url=settings.groq_base_url)

    def elevenlabs(api_key: str) -> TextToSpeech:
        from app.providers.elevenlabs_tts import ElevenLabsTextToSpeech

        return ElevenLabsTextToSpeech(api_key, base_url=settings.elevenlabs_base_url)

    def cartesia(api_key: str) -> TextToSpeech:
        from app.providers.cartesia_tts import CartesiaTextToSpeech

        return CartesiaTextToSpeech(api_key, base_url=settings.cartesia_base_url)

    registry.vad.register("energy", EnergyVad)
    registry.vad.register("silero", SileroVad)
    registry.stt.register("whisper", WhisperSpeechToText)
    registry.llm.register("smollm2", _smollm2)
    registry.llm.register("openai", openai_compatible)
    registry.tts.register("piper", _piper)
    # Cloud providers: built per organization, with its key.
    registry.stt.register_cloud("deepgram", deepgram)
    registry.llm.register_cloud("groq", groq)
    registry.llm.register_cloud("openai", openai_compatible)
    registry.tts.register_cloud("elevenlabs", elevenlabs)
    registry.tts.register_cloud("cartesia", cartesia)
