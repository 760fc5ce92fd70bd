"""The caller's side of the line, frame by frame: voice activity, the echo gate, speech runs.

Each 20 ms frame is scored by the VAD on what arrived; the echo gate then decides whether it
could be the agent's own voice returning (its onset can then not start speech, and the words
are not the caller's); the segmenter turns what is left into the caller's speech runs. While
the caller is in speech the gate is not asked: their quieter sounds are theirs.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.audio.levels import pcm16_dbfs
from app.engine.echo import EchoGate
from app.engine.speech import SpeechChange, SpeechSegmenter
from app.engine.transcript import TranscriptLog
from app.providers.base import VadStream


@dataclass(frozen=True, slots=True)
class HeardFrame:
    """What one caller frame turned out to be."""

    frame: bytes  # what the recognizer gets: silence when the frame was the agent's echo
    probability: float  # the speech score after the gate
    change: SpeechChange | None


class CallerLine:
    def __init__(
        self, vad: VadStream, echo: EchoGate, segmenter: SpeechSegmenter, log: TranscriptLog
    ) -> None:
        self._vad = vad
        self.echo = echo
        self.segmenter = segmenter
        self._log = log

    async def hear(self, frame: bytes, now: float) -> HeardFrame:
        probability = await self._vad.speech_probability(frame)
        voiced = probability >= self.segmenter.config.threshold
        if not self.segmenter.in_speech and self.echo.is_echo(
            pcm16_dbfs(frame), now, caller_silent=not voiced, in_onset=self.segmenter.starting
        ):
            # The agent's own voice returning: neither speech nor words of the caller.
            if voiced:
                self._log.count("echo_frames_gated")
            probability, frame = 0.0, bytes(len(frame))
        change = self.segmenter.push(probability)
        if self.segmenter.in_speech:
            self.echo.caller_speaking()
        return HeardFrame(frame, probability, change)
