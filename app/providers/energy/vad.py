"""A level-based voice activity detector: cheap, dependency-free, good on clean lines.

It follows the line's noise floor, so steady hiss does not count as speech, and scores a
frame by how far it stands above that floor. Silero (the offline default) is better at
telling speech from noise; this one needs no model and is what tests and small boxes use.
"""

from __future__ import annotations

import math

from app.audio.levels import pcm16_dbfs

# Frames quieter than this are silence whatever the floor (dBFS).
ABSOLUTE_FLOOR_DB = -55.0
# A frame this far above the noise floor scores 0.5.
SPEECH_MARGIN_DB = 15.0
FLOOR_RISE_PER_FRAME_DB = 0.05  # the floor climbs slowly, so speech does not lift it
FLOOR_START_DB = -60.0


class EnergyVadStream:
    def __init__(self) -> None:
        self._floor_db = FLOOR_START_DB

    async def speech_probability(self, frame: bytes) -> float:
        level = pcm16_dbfs(frame)
        if level < self._floor_db:
            self._floor_db = level
        else:
            self._floor_db = min(self._floor_db + FLOOR_RISE_PER_FRAME_DB, level)
        if level < ABSOLUTE_FLOOR_DB:
            return 0.0
        above = level - max(self._floor_db, ABSOLUTE_FLOOR_DB - SPEECH_MARGIN_DB)
        return 1.0 / (1.0 + math.exp(-(above - SPEECH_MARGIN_DB) / 3.0))


class EnergyVad:
    name = "energy"

    def open_stream(self) -> EnergyVadStream:
        return EnergyVadStream()
