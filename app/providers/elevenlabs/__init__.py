"""ElevenLabs streaming text to speech (`tts.py`; its wire format, sans-I/O: `wire.py`)."""

from __future__ import annotations

from app.providers.base import TextToSpeech
from app.providers.registry import ProviderRegistry
from app.settings import Settings


def register(registry: ProviderRegistry, settings: Settings) -> None:
    def elevenlabs(api_key: str) -> TextToSpeech:
        from app.providers.elevenlabs.tts import ElevenLabsTextToSpeech

        return ElevenLabsTextToSpeech(api_key, base_url=settings.elevenlabs_base_url)

    registry.tts.register_cloud("elevenlabs", elevenlabs)
