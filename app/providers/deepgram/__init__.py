"""Deepgram live streaming speech to text (`stt.py`; its wire format, sans-I/O: `wire.py`)."""

from __future__ import annotations

from app.providers.base import SpeechToText
from app.providers.registry import ProviderRegistry
from app.settings import Settings


def register(registry: ProviderRegistry, settings: Settings) -> None:
    def deepgram(api_key: str) -> SpeechToText:
        from app.providers.deepgram.stt import DeepgramSpeechToText

        return DeepgramSpeechToText(api_key, base_url=settings.deepgram_base_url)

    registry.stt.register_cloud("deepgram", deepgram)
