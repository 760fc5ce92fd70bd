"""Cartesia Sonic streaming text to speech (`tts.py`; its wire format, sans-I/O: `wire.py`)."""

from __future__ import annotations

from app.providers.base import TextToSpeech
from app.providers.registry import ProviderRegistry
from app.settings import Settings


def register(registry: ProviderRegistry, settings: Settings) -> None:
    def cartesia(api_key: str) -> TextToSpeech:
        from app.providers.cartesia.tts import CartesiaTextToSpeech

        return CartesiaTextToSpeech(api_key, base_url=settings.cartesia_base_url)

    registry.tts.register_cloud("cartesia", cartesia)
