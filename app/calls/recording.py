"""Call recordings: one stereo MP3 per call, written while the call runs.

Left is what the caller sent; right is what the caller heard (`recording_mix.py` says how the
two legs are placed and cut). The event loop only appends each frame to the call's batch; every
half second the batch is handed, as it is, to the serving process's recording writer process
(`recording_process.py`), which mixes it and streams it to disk, and encodes the MP3 when the
call ends. The mixing and encoding never run in the serving process.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from app.audio.formats import ENGINE_SAMPLE_RATE
from app.calls.recording_mix import AgentFrame, CallerFrame
from app.calls.recording_process import RecordingFailedError, RecordingProcess
from app.observability.metrics import RECORDINGS_FAILED

# Highest rate recorded: the engine hears the caller at 16 kHz, so more adds nothing.
MAX_RATE_HZ = ENGINE_SAMPLE_RATE
SUBMIT_EVERY_S = 0.5
# How long a call's end waits for its recording to be finished: the writer encodes a call in
# about a thousandth of its length, so only a writer that hangs reaches this, and the call is
# then saved without its recording instead of never.
FINISH_DEADLINE_S = 30.0
FINISH_DEADLINE_PER_CALL_S = 0.05


class CallRecording:
    """A call's recording: the engine's `CallAudioTap`, written by the recording process."""

    def __init__(
        self,
        writer: RecordingProcess,
        directory: Path,
        relative_path: str,
        *,
        rate: int,
        hold_s: float,
        clock: Callable[[], float] = time.monotonic,
        finish_deadline_s: float = FINISH_DEADLINE_S,
    ) -> None:
        self.relative_path = relative_path
        self._finish_deadline_s = finish_deadline_s
        self._writer = writer
        self._clock = clock
        self._caller: list[CallerFrame] = []
        self._agent: list[AgentFrame] = []
        self._closed = False
        started = self._started = self._last_submit = clock()
        self._key = writer.open(directory / relative_path, min(rate, MAX_RATE_HZ), started, hold_s)

    # A batch goes before the frame that finds it due, not with it: the first frame after a
    # stall then starts the next batch beside the frames held up with it, and the writer sees
    # the burst whole when it places it (`recording_mix.py`).
    def caller_frame(self, pcm16: bytes) -> None:
        if not self._closed:
            self._maybe_submit()
            self._caller.append((pcm16, self._clock()))

    def agent_frame(self, pcm16: bytes, rate_hz: int, plays_at: float) -> None:
        if not self._closed:
            self._maybe_submit()
            self._agent.append((pcm16, rate_hz, plays_at))

    def cleared(self, at: float) -> None:
        if not self._closed:
            self._agent.append((b"", 0, at))

    def _maybe_submit(self) -> None:
        now = self._clock()
        if now - self._last_submit >= SUBMIT_EVERY_S:
            self._submit(now)

    def _submit(self, now: float) -> None:
        caller, agent = self._caller, self._agent
        self._caller, self._agent = [], []
        self._last_submit = now
        self._writer.write(self._key, caller, agent, now)

    async def close(self) -> dict[str, Any]:
        """Finish the file; where it is and which legs it holds. Raises `RecordingFailedError`
        when it could not be finished (the writer process died, or writing failed)."""
        self._closed = True
        ended = self._clock()
        self._submit(ended)
        deadline = self._finish_deadline_s + FINISH_DEADLINE_PER_CALL_S * (ended - self._started)
        finished = asyncio.wrap_future(self._writer.finish(self._key, ended))
        try:
            async with asyncio.timeout(deadline):
                summary: dict[str, Any] = await finished
        except TimeoutError as error:
            RECORDINGS_FAILED.labels(reason="writer_timeout").inc()
            raise RecordingFailedError(
                f"the recording writer process did not finish it within {deadline:.0f} s"
            ) from error
        return {"path": self.relative_path, **summary}


def recording_path(organization_id: str, call_id: str) -> str:
    """Where a call's recording lives, relative to the recordings folder."""
    return f"{organization_id}/{call_id}.mp3"
