"""Caller speech for the benchmarks, synthesized with espeak-ng (a real voice, so Silero hears it).

`tests.audio_samples.speech_like` (a 200 + 800 Hz mix) is what the energy VAD hears as speech,
but Silero scores it as non-speech: a benchmark with the real VAD needs speech-shaped audio.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import wave

import numpy as np

from app.audio.levels import pcm16_dbfs
from telephony.audio import StreamingResampler

ENGINE_RATE = 16_000
FRAME_BYTES_16K = 640  # 20 ms of PCM16 16 kHz
# Frames quieter than this at either end of a synthesized utterance are trimmed, so that the
# caller's "last speech frame" is the last frame with voice in it.
VOICED_DBFS = -45.0


class EspeakUnavailableError(RuntimeError):
    """espeak-ng is not installed; install it (apt-get install espeak-ng) to run this section."""


def espeak_pcm16(text: str, words_per_minute: int = 175) -> bytes:
    """`text` spoken by espeak-ng, as PCM16 mono 16 kHz, trimmed to its voiced frames."""
    if shutil.which("espeak-ng") is None:
        raise EspeakUnavailableError("espeak-ng is not installed")
    wav = subprocess.run(
        ["espeak-ng", "-s", str(words_per_minute), "--stdout", text],
        capture_output=True,
        check=True,
    ).stdout
    with wave.open(io.BytesIO(wav)) as reader:
        rate = reader.getframerate()
        pcm = reader.readframes(reader.getnframes())
    resampler = StreamingResampler(rate, ENGINE_RATE)
    return trim_to_voice(resampler.resample_chunk(pcm) + resampler.flush())


def trim_to_voice(pcm16_16k: bytes) -> bytes:
    frames = [
        pcm16_16k[i : i + FRAME_BYTES_16K]
        for i in range(0, len(pcm16_16k) - FRAME_BYTES_16K + 1, FRAME_BYTES_16K)
    ]
    voiced = [i for i, frame in enumerate(frames) if pcm16_dbfs(frame) >= VOICED_DBFS]
    if not voiced:
        return b""
    return b"".join(frames[voiced[0] : voiced[-1] + 1])


def seconds(pcm16_16k: bytes) -> float:
    return len(pcm16_16k) / 2 / ENGINE_RATE


def peak_normalized(pcm16_16k: bytes, peak: float = 0.7) -> bytes:
    """Scale to a phone-like level (espeak output peaks near full scale)."""
    samples = np.frombuffer(pcm16_16k, dtype="<i2").astype(np.float32)
    top = float(np.abs(samples).max()) or 1.0
    scaled: np.ndarray = np.clip(samples * (peak * 32767 / top), -32768, 32767)
    return scaled.astype("<i2").tobytes()
