"""Synthetic PCM16 test audio: tones, a speech-like mix, noise and silence.

Levels are RMS relative to full scale (the convention of `app.audio.levels.pcm16_dbfs`), so a
`speech_like(1.0, dbfs=-12)` measures -12 dBFS there and counts as speech for an energy VAD.
"""

from __future__ import annotations

import numpy as np


def _to_pcm16(samples: np.ndarray) -> bytes:
    return np.clip(np.rint(samples * 32768.0), -32768, 32767).astype("<i2").tobytes()


def _n_samples(seconds: float, sample_rate: int) -> int:
    return round(seconds * sample_rate)


def tone(freq_hz: float, seconds: float, amplitude: float, sample_rate: int = 16_000) -> bytes:
    """A sine of peak `amplitude` (fraction of full scale, 0..1) as PCM16."""
    t = np.arange(_n_samples(seconds, sample_rate)) / sample_rate
    return _to_pcm16(amplitude * np.sin(2 * np.pi * freq_hz * t))


def speech_like(seconds: float, dbfs: float = -12.0, sample_rate: int = 16_000) -> bytes:
    """A 200 Hz + 800 Hz mix at `dbfs` RMS: voiced-speech energy where speech has it."""
    t = np.arange(_n_samples(seconds, sample_rate)) / sample_rate
    mix = np.sin(2 * np.pi * 200 * t) + 0.5 * np.sin(2 * np.pi * 800 * t)
    rms_of_unit_mix = np.sqrt((1 + 0.25) / 2)
    return _to_pcm16(mix * (10 ** (dbfs / 20) / rms_of_unit_mix))


def noise(seconds: float, dbfs: float = -40.0, sample_rate: int = 16_000, seed: int = 0) -> bytes:
    """Gaussian white noise at `dbfs` RMS, reproducible from `seed`."""
    rng = np.random.default_rng(seed)
    return _to_pcm16(rng.standard_normal(_n_samples(seconds, sample_rate)) * 10 ** (dbfs / 20))


def silence(seconds: float, sample_rate: int = 16_000) -> bytes:
    """Digital silence (all-zero PCM16)."""
    return bytes(2 * _n_samples(seconds, sample_rate))


def trim_silence(pcm16: bytes, threshold_dbfs: float = -45.0, sample_rate: int = 16_000) -> bytes:
    """`pcm16` without the quiet lead-in and tail (a synthesizer pads its speech with them)."""
    samples = np.frombuffer(pcm16, dtype="<i2").astype(np.float64) / 32768.0
    frame = sample_rate // 50
    loud = [
        start
        for start in range(0, len(samples), frame)
        if np.sqrt(np.mean(samples[start : start + frame] ** 2)) > 10 ** (threshold_dbfs / 20)
    ]
    if not loud:
        return b""
    return pcm16[loud[0] * 2 : (loud[-1] + frame) * 2]
