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


class UnknownFormatNameError(ValueError):
    """An audio format name that ElevenLabs does not define; use one of `NAMED_FORMATS`."""


# ElevenLabs' names for the formats of its conversation socket (the AudioFormat enum of
# agent.asyncapi.yaml); agents name their formats this way and the clients parse these names.
NAMED_FORMATS: dict[str, AudioFormat] = {
    "pcm_8000": AudioFormat("pcm16", 8000),
    "pcm_16000": PCM16_16K,
    "pcm_22050": AudioFormat("pcm16", 22050),
    "pcm_24000": AudioFormat("pcm16", 24000),
    "pcm_44100": AudioFormat("pcm16", 44100),
    "pcm_48000": AudioFormat("pcm16", 48000),
    "ulaw_8000": MULAW_8K,
}


def format_named(name: str) -> AudioFormat:
    """The format an ElevenLabs name such as `pcm_16000` stands for."""
    try:
        return NAMED_FORMATS[name]
    except (KeyError, TypeError):
        known = ", ".join(NAMED_FORMATS)
        raise UnknownFormatNameError(
            f"unknown audio format {name!r:.40}; use one of {known}"
        ) from None


@dataclass(frozen=True, slots=True)
class AudioChunk:
    """A piece of audio in a known format (what a TTS yields)."""

    data: bytes
    format: AudioFormat
