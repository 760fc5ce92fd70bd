"""Whisper tiny.en through CTranslate2, the offline recognizer with interims (`stt.py`)."""

from __future__ import annotations

from app.providers.registry import ProviderRegistry
from app.settings import Settings


def register(registry: ProviderRegistry, settings: Settings) -> None:
    from app.providers.whisper.stt import WhisperSpeechToText

    registry.stt.register("whisper", WhisperSpeechToText)
