"""Hears keypad tones in audio, as an IVR does: Goertzel power at the eight DTMF frequencies
per 20 ms block; a block is a key when one row and one column stand well above the rest."""

from __future__ import annotations

import math

import numpy as np

ROWS = (697.0, 770.0, 852.0, 941.0)
COLUMNS = (1209.0, 1336.0, 1477.0, 1633.0)
LAYOUT = ("123A", "456B", "789C", "*0#D")


def _power(block: np.ndarray, frequency: float, rate: int) -> float:
    coefficient = 2 * math.cos(2 * math.pi * frequency / rate)
    previous = before = 0.0
    for sample in block:
        previous, before = sample + coefficient * previous - before, previous
    return previous * previous + before * before - coefficient * previous * before


def _key(block: np.ndarray, rate: int) -> str | None:
    if np.sqrt(np.mean(block**2)) < 500:  # quieter than about -36 dBFS: no key
        return None
    rows = [_power(block, f, rate) for f in ROWS]
    columns = [_power(block, f, rate) for f in COLUMNS]
    row, column = int(np.argmax(rows)), int(np.argmax(columns))
    if sorted(rows)[-2] * 10 > rows[row] or sorted(columns)[-2] * 10 > columns[column]:
        return None
    return LAYOUT[row][column]


def heard_keys(pcm16: bytes, rate: int) -> str:
    """The keys pressed in `pcm16`, in order (a key held over several blocks counts once)."""
    samples = np.frombuffer(pcm16, dtype="<i2").astype(np.float64)
    step = rate // 50
    keys, last = "", None
    for start in range(0, len(samples) - step + 1, step):
        key = _key(samples[start : start + step], rate)
        if key is not None and key != last:
            keys += key
        last = key
    return keys
