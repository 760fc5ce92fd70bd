"""Silero VAD on onnxruntime, the offline default (`vad.py`)."""

from __future__ import annotations

from app.providers.registry import ProviderRegistry
from app.settings import Settings


def register(registry: ProviderRegistry, settings: Settings) -> None:
    from app.providers.silero.vad import SileroVad

    registry.vad.register("silero", SileroVad)
