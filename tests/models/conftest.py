"""The real local models, loaded once for the whole test session (as in the service)."""

from __future__ import annotations

import pytest

from app.providers.silero_vad import SileroVad
from app.providers.whisper_stt import WhisperSpeechToText


@pytest.fixture(scope="session")
def silero() -> SileroVad:
    return SileroVad()


@pytest.fixture(scope="session")
def whisper() -> WhisperSpeechToText:
    return WhisperSpeechToText()
