"""Keypad tones as audio (in-band DTMF, ITU-T Q.23 frequencies), sans-I/O.

Any line that carries the agent's voice carries these (Twilio Media Streams has no message to
send a digit; an IVR behind G.711 hears in-band tones). Each key is its row and column sine
for `TONE_MS`, then `GAP_MS` of silence; `w` is a half-second pause, as ElevenLabs writes it.
"""

from __future__ import annotations

import numpy as np

TONE_MS = 100  # Q.24 asks receivers to accept 40 ms and more
GAP_MS = 100
PAUSE_MS = 500
# Each of the two sines at about -9 dBFS: the pair stays clear of clipping.
AMPLITUDE = 0.35

_ROWS = (697.0, 770.0, 852.0, 941.0)
_COLUMNS = (1209.0, 1336.0, 1477.0, 1633.0)
_LAYOUT = ("123A", "456B", "789C", "*0#D")
FREQUENCIES: dict[str, tuple[float, float]] = {
    key: (_ROWS[row], _COLUMNS[column])
    for row, keys in enumerate(_LAYOUT)
    for column, key in enumerate(keys)
}


def keypad_audio(tones: str, sample_rate: int) -> bytes:
    """PCM16 (little-endian) of `tones` pressed in order: keys 0-9, *, #, A-D, and `w`."""
    parts: list[np.ndarray] = []
    for key in tones:
        if key == "w":
            parts.append(_silence(PAUSE_MS, sample_rate))
            continue
        if key not in FREQUENCIES:
            raise ValueError(f"{key!r} is not a keypad key")
        low, high = FREQUENCIES[key]
        t = np.arange(sample_rate * TONE_MS // 1000) / sample_rate
        parts.append(AMPLITUDE * (np.sin(2 * np.pi * low * t) + np.sin(2 * np.pi * high * t)))
        parts.append(_silence(GAP_MS, sample_rate))
    samples = np.concatenate(parts) if parts else np.zeros(0)
    return bytes((samples * 32767).astype("<i2").tobytes())


def _silence(ms: int, sample_rate: int) -> np.ndarray:
    return np.zeros(sample_rate * ms // 1000)
