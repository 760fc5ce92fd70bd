"""How loud a piece of PCM16 audio is: the one measure every detector and test uses."""

from __future__ import annotations

import math

import numpy as np

DBFS_FLOOR = -120.0
"""What `pcm16_dbfs` reports for digital silence (below any non-zero 16-bit signal)."""


def pcm16_rms(frame: bytes) -> float:
    """Linear RMS level of PCM16 audio as a fraction of full scale (0.0 silence, 1.0 max)."""
    samples = np.frombuffer(frame, dtype="<i2", count=len(frame) // 2)
    if samples.size == 0:
        return 0.0
    # One dot product (every caller and agent frame is measured: it is on the hot path).
    as_float = samples.astype(np.float64)
    return math.sqrt(float(as_float.dot(as_float)) / as_float.size) / 32768.0


def pcm16_dbfs(frame: bytes) -> float:
    """RMS level in dBFS (20·log10 of `pcm16_rms`), `DBFS_FLOOR` for digital silence."""
    rms = pcm16_rms(frame)
    return max(20.0 * math.log10(rms), DBFS_FLOOR) if rms > 0 else DBFS_FLOOR
