"""Piper with the en_US "joe" voice, the offline voice (`tts.py`)."""

from __future__ import annotations

from app.providers.base import TextToSpeech
from app.providers.registry import ProviderRegistry
from app.settings import Settings


def _piper() -> TextToSpeech:
    from app.providers.piper.tts import PiperTextToSpeech

    return PiperTextToSpeech()


def register(registry: ProviderRegistry, settings: Settings) -> None:
    registry.tts.register("piper", _piper)
