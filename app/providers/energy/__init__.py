"""Energy VAD: a level-based detector, no model (`vad.py`)."""

from __future__ import annotations

from app.providers.registry import ProviderRegistry
from app.settings import Settings


def register(registry: ProviderRegistry, settings: Settings) -> None:
    from app.providers.energy.vad import EnergyVad

    registry.vad.register("energy", EnergyVad)
