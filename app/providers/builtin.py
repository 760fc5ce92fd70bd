"""Registers the providers that ship with Velox. One line per provider."""

from __future__ import annotations

from app.providers.energy_vad import EnergyVad
from app.providers.registry import ProviderRegistry
from app.providers.silero_vad import SileroVad
from app.providers.whisper_stt import WhisperSpeechToText


def register_builtin_providers(registry: ProviderRegistry) -> None:
    registry.vad.register("energy", EnergyVad)
    registry.vad.register("silero", SileroVad)
    registry.stt.register("whisper", WhisperSpeechToText)
