"""A recording's caller channel on a simulated clock, written by a real writer process: frames
laid end to end, a pause in what the caller sent kept as silence, decoded back from the MP3."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest

from app.calls.recording import CallRecording, recording_path
from app.calls.recording_process import RecordingProcess

pytestmark = pytest.mark.unit

RATE = 8000


def tone_frame() -> bytes:
    """20 ms of a 440 Hz tone at 16 kHz, as the engine hears the caller."""
    t = np.arange(320) / 16_000
    return (np.sin(2 * np.pi * 440 * t) * 8000).astype(np.int16).tobytes()


def left_channel(path: Path) -> np.ndarray:
    with av.open(str(path)) as container:
        chunks = [
            frame.to_ndarray().reshape(-1, 2) if frame.format.is_packed else frame.to_ndarray().T
            for frame in container.decode(audio=0)
        ]
    left = np.concatenate(chunks)[:, 0].astype(np.float64)
    # A float decoder gives samples in [-1, 1]: scaled as 16-bit PCM.
    return left * 32768 if np.abs(left).max() <= 1.0 else left


def loud(samples: np.ndarray, start_s: float, end_s: float) -> float:
    window = samples[int(start_s * RATE) : int(end_s * RATE)]
    return float(np.sqrt(np.mean(window**2)))


class SimulatedCall:
    """A call's recording on a simulated clock, written by a real writer process."""

    def __init__(self, directory: Path) -> None:
        self.now = 100.0
        self.directory = directory
        self.writer = RecordingProcess()
        self.recording = CallRecording(
            self.writer,
            directory,
            recording_path("org", "call"),
            rate=RATE,
            hold_s=0.7,
            clock=lambda: self.now,
        )

    def caller_sends(self, frame: bytes, count: int, every_s: float = 0.02) -> None:
        """`count` frames, one each `every_s` (0: all at once, as a burst arrives)."""
        for _ in range(count):
            self.now += every_s
            self.recording.caller_frame(frame)

    def finish(self) -> tuple[dict[str, Any], np.ndarray]:
        """The recording's summary and its left channel, decoded from the MP3."""
        summary = asyncio.run(self.recording.close())
        self.writer.stop()
        return summary, left_channel(self.directory / summary["path"])


def test_a_pause_in_what_the_caller_sent_stays_silence_in_the_recording(tmp_path: Path) -> None:
    call = SimulatedCall(tmp_path)
    call.caller_sends(tone_frame(), 25)  # 0.0-0.5 s: the caller speaks
    call.now += 1.0  # 0.5-1.5 s: nothing arrives (the network stalled)
    call.caller_sends(tone_frame(), 25)  # 1.5-2.0 s: the caller again
    call.now += 0.2
    summary, left = call.finish()

    assert summary["has_user_audio"] is True
    speech = loud(left, 0.15, 0.45)
    assert speech > 1000
    assert loud(left, 0.75, 1.35) < speech / 20  # the stall is silence, not the next words
    assert loud(left, 1.65, 1.95) > speech / 2
    assert abs(len(left) / RATE - 2.2) < 0.3


def test_frames_held_up_and_arriving_together_are_laid_before_they_arrived(
    tmp_path: Path,
) -> None:
    """A stall, then what the caller said during it arriving at once (the network or a busy
    server held it up): laid where it was said, ending as it arrived, not after it; so what
    follows stays in step with the agent's side."""
    call = SimulatedCall(tmp_path)
    silent = bytes(len(tone_frame()))
    call.caller_sends(silent, 25)  # 0.0-0.5 s: the caller is quiet
    call.now += 1.4  # 0.5-1.9 s: nothing arrives
    call.caller_sends(tone_frame(), 20, every_s=0)  # at 1.9 s, the 1.5-1.9 s said meanwhile
    call.caller_sends(silent, 10)  # 1.9-2.1 s: silence again, in real time
    call.now += 0.2
    _, left = call.finish()

    # (decoded, everything comes about 0.2 s late: the resampler's and the MP3 encoder's delay)
    speech = loud(left, 1.75, 1.95)
    assert speech > 1000  # laid before it arrived (it used to start at 1.9 s)
    assert loud(left, 0.6, 1.6) < speech / 20
    assert loud(left, 2.2, 2.3) < speech / 20  # nothing runs on past its arrival
    assert abs(len(left) / RATE - 2.3) < 0.3
