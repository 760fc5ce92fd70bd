"""A recorded call's two legs mixed on one timeline and encoded, in the recording writer
process (`app/calls/recording_writer.py`).

Left is what the caller sent; right is what the caller heard: the agent's frames placed at the
moment they play at the far end, and cut where a `clear` cut them (audio sent ahead but dropped
by the far end was never heard, so it is not in the recording). Right-channel audio is held back
for `hold_s` (more than the playout lead) before it is written, so a clear can still remove it.

Each half second of the call is mixed and its final part appended as stereo PCM to
`<recordings dir>/<organization>/<call>.pcm.part`; when the call ends that file is encoded to
MP3 (LAME, through `lameenc`) a second at a time and replaced by `<call>.mp3`. Nothing of a
call's audio is held in memory beyond those few seconds, and only calls that are finishing hold
an encoder (LAME's state is large, about a megabyte).
"""

from __future__ import annotations

from pathlib import Path
from typing import IO, Any

import lameenc
import numpy as np
import soxr

from app.audio.formats import ENGINE_SAMPLE_RATE

BITRATE_KBPS = {8000: 24, 16000: 40}
# A caller who sends nothing for this long (a typed conversation, a stalled stream) is silence
# in the recording, so the agent's side is not held back waiting for it.
CALLER_STALL_S = 1.0
# Caller frames are laid end to end (network jitter does not tear the caller's speech apart),
# unless one arrives this much later than that puts it: then the gap is silence, so a client
# that stops sending audio for a while stays in step with the agent's side. The silence ends
# early enough that no frame is laid later than it arrived: frames held up together (a network
# stall, a busy server) arrive in a burst, and what they carry was said before the burst.
CALLER_GAP_S = 0.3

# (pcm16 at 16 kHz, the clock time it arrived)
CallerFrame = tuple[bytes, float]
# (pcm16, its rate, the clock time it plays at the far end), or a clear: (b"", 0, at)
AgentFrame = tuple[bytes, int, float]


class Mixer:
    """A call's two legs on one timeline, written to disk as they become final."""

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

    def apply(self, caller: list[CallerFrame], agent_frames: list[AgentFrame], now: float) -> None:
        """Half a second of the call: the caller's frames, the agent's (and clears), and the
        clock time they were handed over at."""
        self._hear_caller(caller)
        agent = [(pcm16, rate, at) for pcm16, rate, at in agent_frames if pcm16]
        if agent:  # the right channel grows once for the whole batch, not frame by frame
            last_end = max(
                self._sample(at) - self.encoded + len(pcm16) // 2 * self.rate // rate
                for pcm16, rate, at in agent
            )
            if last_end > len(self.right):
                self.right = np.concatenate(
                    [self.right, np.zeros(last_end - len(self.right), np.int16)]
                )
        for pcm16, rate, at in agent_frames:
            if not pcm16:
                self._cut(self._sample(at) - self.encoded)
                continue
            self.has_response_audio = True
            samples = np.frombuffer(pcm16, dtype=np.int16)
            if rate != self.rate:
                samples = soxr.resample(samples, rate, self.rate).astype(np.int16)
            self._place(self._sample(at) - self.encoded, samples)
        self._encode_until(self._sample(now - self.hold_s) - self.encoded)

    def _hear_caller(self, frames: list[CallerFrame]) -> None:
        """Lay the caller's frames end to end, joined a run at a time (one copy of the channel
        per run of frames, not per frame); silence where they paused."""
        if not frames:
            return
        self.has_user_audio = True
        gap = int(CALLER_GAP_S * self.rate)
        sizes = [len(frame) // 2 * self.rate // ENGINE_SAMPLE_RATE for frame, _ in frames]
        arrivals = [self._sample(arrived) - self.encoded for _, arrived in frames]
        latest = _latest_starts(arrivals, sizes)
        run: list[bytes] = []
        length = len(self.left)  # with the run's frames still to be appended
        for (frame, _), size, arrived, start_by in zip(
            frames, sizes, arrivals, latest, strict=True
        ):
            if arrived - size > length + gap:
                self._append_caller(run)
                run = []
                self.left = np.concatenate(
                    [self.left, np.zeros(max(0, start_by - len(self.left)), np.int16)]
                )
                length = len(self.left)
            run.append(frame)
            length += size
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
        """Give the call up: close and remove what was written of it."""
        self._file.close()
        self._pcm_path.unlink(missing_ok=True)
        self.path.with_name(self.path.name + ".part").unlink(missing_ok=True)


def _latest_starts(arrivals: list[int], sizes: list[int]) -> list[int]:
    """For each frame (laid end to end with those after it), the latest sample it can start at
    for none of them to end after it arrived (`arrivals`: where each frame ends if it ends as
    it arrives)."""
    latest = [0] * len(arrivals)
    bound: int | None = None
    for index in range(len(arrivals) - 1, -1, -1):
        end = arrivals[index] if bound is None else min(arrivals[index], bound)
        latest[index] = bound = end - sizes[index]
    return latest
