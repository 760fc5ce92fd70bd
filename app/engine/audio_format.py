"""Audio formats the engine speaks about; conversion itself lives at the transport's edge."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

FRAME_MS = 20
ENGINE_SAMPLE_RATE = 16_000


@dataclass(frozen=True, slots=True)
class AudioFormat:
    encoding: Literal["pcm16", "mulaw", "alaw"]
    sample_rate: int

    @property
    def bytes_per_sample(self) -> int:
        return 2 if self.encoding == "pcm16" else 1

    def bytes_for_ms(self, ms: int) -> int:
        return self.sample_rate * ms // 1000 * self.bytes_per_sample

    @property
    def frame_bytes(self) -> int:
        """Bytes in one 20 ms frame."""
        return self.bytes_for_ms(FRAME_MS)

    def duration_ms(self, n_bytes: int) -> float:
        return n_bytes / self.bytes_per_sample * 1000 / self.sample_rate


PCM16_16K = AudioFormat("pcm16", ENGINE_SAMPLE_RATE)
MULAW_8K = AudioFormat("mulaw", 8000)


@dataclass(frozen=True, slots=True)
class AudioChunk:
    """A piece of audio in a known format (what a TTS yields)."""

    data: bytes
    format: AudioFormat
