"""Call recordings: one stereo MP3 per call, written while the call runs.

Left is what the caller sent; right is what the caller heard: the agent's frames placed at the
moment they play at the far end, and cut where a `clear` cut them (audio sent ahead but dropped
by the far end was never heard, so it is not in the recording). Right-channel audio is held back
for `hold_s` (more than the playout lead) before it is encoded, so a clear can still remove it.

The event loop only appends frames to a per-call list; every half second the list is handed to
one writer thread shared by every call of the process, which mixes it and appends the stereo
PCM to `<recordings dir>/<organization>/<call>.pcm.part`. When the call ends the same thread
encodes that file to MP3 (LAME, through `lameenc`), a second at a time, and replaces it with
`<call>.mp3`. Nothing of a call's audio is held in memory beyond those few seconds, and only
calls that are finishing hold an encoder (LAME's state is large, about a megabyte).
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import lameenc
import numpy as np
import soxr

from app.audio.formats import ENGINE_SAMPLE_RATE

log = logging.getLogger(__name__)

# Highest rate recorded: the engine hears the caller at 16 kHz, so more adds nothing.
MAX_RATE_HZ = ENGINE_SAMPLE_RATE
BITRATE_KBPS = {8000: 24, 16000: 40}
SUBMIT_EVERY_S = 0.5
# A caller who sends nothing for this long (a typed conversation, a stalled stream) is silence
# in the recording, so the agent's side is not held back waiting for it.
CALLER_STALL_S = 1.0
# Caller frames are laid end to end (network jitter does not tear the caller's speech apart),
# unless one arrives this much later than that puts it: then the gap is silence, so a client
# that stops sending audio for a while stays in step with the agent's side.
CALLER_GAP_S = 0.3


class _Writer:
    """One thread doing every call's mixing, encoding and file writing, in submission order."""

    def __init__(self) -> None:
        self._jobs: queue.SimpleQueue[tuple[Callable[[], Any], Future[Any]]] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def submit(self, job: Callable[[], Any]) -> Future[Any]:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="recording-writer", daemon=True
                )
                self._thread.start()
        future: Future[Any] = Future()
        self._jobs.put((job, future))
        return future

    def _run(self) -> None:
        while True:
            job, future = self._jobs.get()
            try:
                future.set_result(job())
            except BaseException as error:  # reported to whoever waits for it
                future.set_exception(error)
            # Hand the interpreter back between jobs: with jobs queued, this thread would keep
            # it until Python forces a switch (every 5 ms), and the event loop, which sends
            # every call's frames, would wait that long each time.
            time.sleep(0)


_WRITER = _Writer()


def wait_for_writer() -> None:
    """Block until everything submitted to the writer so far is done (a benchmark on a
    simulated clock paces itself with it, as real time paces a call)."""
    _WRITER.submit(lambda: None).result()


@dataclass
class _Batch:
    # (pcm16 at 16 kHz, the clock time it arrived)
    caller: list[tuple[bytes, float]] = field(default_factory=list)
    # (pcm16, rate, plays_at) or a clear: (b"", 0, at)
    agent: list[tuple[bytes, int, float]] = field(default_factory=list)
    now: float = 0.0


class _Mixer:
    """A call's two legs on one timeline, encoded as they become final (writer thread only)."""

    def __init__(self, path: Path, rate: int, started: float, hold_s: float) -> None:
        self.path = path
        self.rate = rate
        self.started = started
        self.hold_s = hold_s
        self.encoded = 0  # samples per channel already in the file
        self.left = np.zeros(0, dtype=np.int16)
        self.right = np.zeros(0, dtype=np.int16)
        self.has_user_audio = False
        self.has_response_audio = False
        self._downsample = (
            soxr.ResampleStream(ENGINE_SAMPLE_RATE, rate, 1, dtype="int16")
            if rate != ENGINE_SAMPLE_RATE
            else None
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        self._pcm_path = path.with_suffix(".pcm.part")
        self._file: IO[bytes] = self._pcm_path.open("wb")

    def _sample(self, at: float) -> int:
        """The sample index (from the start of the call) of clock time `at`."""
        return round((at - self.started) * self.rate)

    def apply(self, batch: _Batch) -> None:
        self._hear_caller(batch.caller)
        agent = [(pcm16, rate, at) for pcm16, rate, at in batch.agent if pcm16]
        if agent:  # the right channel grows once for the whole batch, not frame by frame
            last_end = max(
                self._sample(at) - self.encoded + len(pcm16) // 2 * self.rate // rate
                for pcm16, rate, at in agent
            )
            if last_end > len(self.right):
                self.right = np.concatenate(
                    [self.right, np.zeros(last_end - len(self.right), np.int16)]
                )
        for pcm16, rate, at in batch.agent:
            if not pcm16:
                self._cut(self._sample(at) - self.encoded)
                continue
            self.has_response_audio = True
            samples = np.frombuffer(pcm16, dtype=np.int16)
            if rate != self.rate:
                samples = soxr.resample(samples, rate, self.rate).astype(np.int16)
            self._place(self._sample(at) - self.encoded, samples)
        self._encode_until(self._sample(batch.now - self.hold_s) - self.encoded)

    def _hear_caller(self, frames: list[tuple[bytes, float]]) -> None:
        """Lay the caller's frames end to end, joined a run at a time (one copy of the channel
        per run of frames, not per frame); silence where they paused."""
        if not frames:
            return
        self.has_user_audio = True
        gap = int(CALLER_GAP_S * self.rate)
        run: list[bytes] = []
        length = len(self.left)  # with the run's frames still to be appended
        for frame, arrived in frames:
            samples = len(frame) // 2 * self.rate // ENGINE_SAMPLE_RATE
            starts_at = self._sample(arrived) - self.encoded - samples
            if starts_at > length + gap:
                self._append_caller(run)
                run = []
                self.left = np.concatenate(
                    [self.left, np.zeros(max(0, starts_at - len(self.left)), np.int16)]
                )
                length = len(self.left)
            run.append(frame)
            length += samples
        self._append_caller(run)

    def _append_caller(self, run: list[bytes]) -> None:
        if not run:
            return
        pieces = [np.frombuffer(frame, dtype=np.int16) for frame in run]
        if self._downsample is not None:
            # A frame at a time: the resampler keeps buffers the size of what it is given.
            pieces = [self._downsample.resample_chunk(piece) for piece in pieces]
        self.left = np.concatenate([self.left, *pieces])

    def _cut(self, at: int) -> None:
        """The far end dropped what it had not played at `at`: nothing after it was heard."""
        if at < len(self.right):
            self.right[max(0, at) :] = 0

    def _place(self, at: int, samples: np.ndarray[Any, np.dtype[np.int16]]) -> None:
        if at < 0:  # (part of) a frame for audio already written: keep what is still open
            samples = samples[-at:]
            at = 0
        end = at + len(samples)
        if end > len(self.right):
            self.right = np.concatenate([self.right, np.zeros(end - len(self.right), np.int16)])
        self.right[at:end] = samples

    def _encode_until(self, horizon: int) -> None:
        """Encode everything before `horizon` (relative to what is written) that is final."""
        if horizon <= 0:
            return
        stall = int(CALLER_STALL_S * self.rate)
        if len(self.left) < horizon - stall:  # the caller has sent nothing for a while
            self.left = np.concatenate(
                [self.left, np.zeros(horizon - stall - len(self.left), np.int16)]
            )
        self._write(min(horizon, len(self.left)))

    def _write(self, count: int) -> None:
        if count <= 0:
            return
        right = self.right[:count]
        if len(right) < count:
            right = np.concatenate([right, np.zeros(count - len(right), np.int16)])
        stereo = np.empty(count * 2, dtype=np.int16)
        stereo[0::2] = self.left[:count]
        stereo[1::2] = right
        self._file.write(stereo.tobytes())
        self.left = self.left[count:]
        self.right = self.right[count:]
        self.encoded += count

    def finish(self, ended: float) -> dict[str, Any]:
        """Write the rest (the agent's audio only up to `ended`: nobody heard what came after)
        and close the file."""
        self._cut(self._sample(ended) - self.encoded)
        if self._downsample is not None:
            tail = self._downsample.resample_chunk(np.zeros(0, np.int16), last=True)
            self.left = np.concatenate([self.left, tail])
        end = max(len(self.left), min(len(self.right), self._sample(ended) - self.encoded))
        if len(self.left) < end:
            self.left = np.concatenate([self.left, np.zeros(end - len(self.left), np.int16)])
        self._write(end)
        self._file.close()
        self._downsample = None
        self._encode_file()
        return {
            "has_user_audio": self.has_user_audio,
            "has_response_audio": self.has_response_audio,
            "duration_secs": round(self.encoded / self.rate, 3),
        }

    def _encode_file(self) -> None:
        """The call's PCM, encoded to MP3 a second at a time; the PCM is removed after."""
        encoder = lameenc.Encoder()
        encoder.set_bit_rate(BITRATE_KBPS.get(self.rate, 40))
        encoder.set_in_sample_rate(self.rate)
        encoder.set_channels(2)
        encoder.set_quality(7)
        partial = self.path.with_name(self.path.name + ".part")
        second = self.rate * 4  # bytes of one second of 16-bit stereo
        with self._pcm_path.open("rb") as pcm, partial.open("wb") as mp3:
            for chunk in iter(lambda: pcm.read(second), b""):
                mp3.write(encoder.encode(chunk))
            mp3.write(encoder.flush())
        partial.replace(self.path)
        self._pcm_path.unlink()

    def abandon(self) -> None:
        self._file.close()


class CallRecording:
    """A call's recording: the engine's `CallAudioTap`, writing through the shared writer."""

    def __init__(
        self,
        directory: Path,
        relative_path: str,
        *,
        rate: int,
        hold_s: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.relative_path = relative_path
        self._clock = clock
        self._batch = _Batch()
        self._last_submit = clock()
        self._closed = False
        started = clock()
        rate = min(rate, MAX_RATE_HZ)
        path = directory / relative_path
        self._mixer: _Mixer | None = None
        self._opened = _WRITER.submit(lambda: self._open(path, rate, started, hold_s))

    def _open(self, path: Path, rate: int, started: float, hold_s: float) -> None:
        self._mixer = _Mixer(path, rate, started, hold_s)

    def caller_frame(self, pcm16: bytes) -> None:
        if not self._closed:
            self._batch.caller.append((pcm16, self._clock()))
            self._maybe_submit()

    def agent_frame(self, pcm16: bytes, rate_hz: int, plays_at: float) -> None:
        if not self._closed:
            self._batch.agent.append((pcm16, rate_hz, plays_at))
            self._maybe_submit()

    def cleared(self, at: float) -> None:
        if not self._closed:
            self._batch.agent.append((b"", 0, at))

    def _maybe_submit(self) -> None:
        now = self._clock()
        if now - self._last_submit >= SUBMIT_EVERY_S:
            self._submit(now)

    def _submit(self, now: float) -> Future[Any]:
        batch, self._batch = self._batch, _Batch()
        batch.now = now
        self._last_submit = now
        return _WRITER.submit(lambda: self._apply(batch))

    def _apply(self, batch: _Batch) -> None:
        if self._mixer is not None:
            self._mixer.apply(batch)

    async def close(self) -> dict[str, Any]:
        """Finish the file; where it is and which legs it holds."""
        self._closed = True
        ended = self._clock()
        self._submit(ended)
        finished = _WRITER.submit(lambda: self._finish(ended))
        summary: dict[str, Any] = await asyncio.wrap_future(finished)
        return {"path": self.relative_path, **summary}

    def _finish(self, ended: float) -> dict[str, Any]:
        self._opened.result()  # raises if the file could not be opened
        mixer, self._mixer = self._mixer, None
        assert mixer is not None
        try:
            return mixer.finish(ended)
        except BaseException:
            mixer.abandon()
            raise


def recording_path(organization_id: str, call_id: str) -> str:
    """Where a call's recording lives, relative to the recordings folder."""
    return f"{organization_id}/{call_id}.mp3"
