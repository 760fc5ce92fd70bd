"""The real local models, loaded once for the whole test session (as in the service)."""

from __future__ import annotations

import pytest

from app.providers.builtin import register_builtin_providers
from app.providers.registry import ProviderRegistry
from app.providers.silero.vad import SileroVad
from app.providers.whisper.stt import WhisperSpeechToText
from app.settings import Settings


@pytest.fixture(scope="session")
def silero() -> SileroVad:
    return SileroVad()


@pytest.fixture(scope="session")
def whisper() -> WhisperSpeechToText:
    return WhisperSpeechToText()


@pytest.fixture(scope="session")
def registry() -> ProviderRegistry:
    """The product's own providers (the offline stack), loaded once for every whole-call test."""
    providers = ProviderRegistry()
    register_builtin_providers(providers, Settings())
    return providers
