"""Turns per-frame VAD scores into the caller's speech runs (start, pause, duration)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from app.audio.formats import FRAME_MS


class SpeechChange(Enum):
    STARTED = "started"
    PAUSED = "paused"


@dataclass(slots=True)
class SpeechSegmenterConfig:
    threshold: float = 0.5
    # Consecutive speech frames before speech counts as started (filters clicks).
    start_ms: int = 60
    # Silence inside speech shorter than this keeps the run going (gaps between words).
    pause_ms: int = 160


class SpeechSegmenter:
    """Tracks the caller's speech in media time (one call per 20 ms frame)."""

    def __init__(self, config: SpeechSegmenterConfig | None = None) -> None:
        self.config = config or SpeechSegmenterConfig()
        self.in_speech = False
        self.speech_started_ms = 0
        self.last_speech_ms = 0
        self._run_start_ms: int | None = None
        self._now_ms = 0

    @property
    def now_ms(self) -> int:
        return self._now_ms

    @property
    def starting(self) -> bool:
        """A run of speech frames has begun but is not yet long enough to be speech."""
        return not self.in_speech and self._run_start_ms is not None

    def speech_duration_ms(self) -> int:
        """Length of the current speech run (0 when not in speech)."""
        if not self.in_speech:
            return 0
        return self.last_speech_ms + FRAME_MS - self.speech_started_ms

    def silence_ms(self) -> int:
        """Time since the caller's last speech frame."""
        return self._now_ms - (self.last_speech_ms + FRAME_MS)

    def push(self, probability: float) -> SpeechChange | None:
        frame_start = self._now_ms
        self._now_ms += FRAME_MS
        is_speech = probability >= self.config.threshold
        if is_speech:
            if self._run_start_ms is None:
                self._run_start_ms = frame_start
            self.last_speech_ms = frame_start
            if not self.in_speech and frame_start + FRAME_MS - self._run_start_ms >= (
                self.config.start_ms
            ):
                self.in_speech = True
                self.speech_started_ms = self._run_start_ms
                return SpeechChange.STARTED
            return None
        self._run_start_ms = None
        if self.in_speech and self.silence_ms() >= self.config.pause_ms:
            self.in_speech = False
            return SpeechChange.PAUSED
        return None
