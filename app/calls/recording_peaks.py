"""A recording's waveform as peaks per channel: what the dashboard draws its two lanes from.

Drawing a long call's waveform needs its peaks; decoding a 10-minute MP3 in the browser first
would hold the page, so they are computed here once (PyAV decodes the MP3), kept beside the
recording as `<call>.mp3.peaks.json`, and served as JSON. Each peak is the largest absolute
sample (0 to 1) of its slice of time; slices are 20 ms, widened for long calls so that a
channel has at most `MAX_PEAKS` of them.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

PEAKS_PER_SECOND = 50
MAX_PEAKS = 4000


@dataclass(frozen=True, slots=True)
class RecordingPeaks:
    duration_secs: float
    peaks_per_second: float
    # [caller (left), what the caller heard (right)], each in time order
    channels: tuple[list[float], list[float]]


class UnreadableRecordingError(ValueError):
    """The recording file cannot be decoded as audio."""


def peaks_path(recording: Path) -> Path:
    return recording.with_name(recording.name + ".peaks.json")


def recording_peaks(recording: Path) -> RecordingPeaks:
    """The recording's peaks: from the cache beside it when that is current, else computed
    (and cached; a cache that cannot be written is not an error, only slower next time)."""
    cache = peaks_path(recording)
    try:
        if cache.stat().st_mtime >= recording.stat().st_mtime:
            stored = json.loads(cache.read_text())
            left, right = stored["channels"]
            duration, per_second = stored["duration_secs"], stored["peaks_per_second"]
            return RecordingPeaks(duration, per_second, (left, right))
    except (OSError, ValueError, KeyError, TypeError):
        pass  # no cache yet, or one from an older format: computed again below
    peaks = compute_peaks(recording)
    partial = cache.with_name(cache.name + ".part")
    try:
        partial.write_text(json.dumps(asdict(peaks), separators=(",", ":")))
        os.replace(partial, cache)
    except OSError:
        partial.unlink(missing_ok=True)
    return peaks


def compute_peaks(recording: Path) -> RecordingPeaks:
    """Decode the recording and take each channel's peak per slice (a mono file's one channel
    stands for both)."""
    import av  # heavy; only the peaks of a recording not seen before need it

    slices: list[np.ndarray] = []
    carry = np.zeros((2, 0), dtype=np.float32)
    rate = 0
    samples = 0
    try:
        with av.open(str(recording)) as container:
            stream = container.streams.audio[0]
            for frame in container.decode(stream):
                rate = rate or frame.sample_rate
                pcm = _as_float_stereo(frame.to_ndarray(), frame.layout.nb_channels)
                samples += pcm.shape[1]
                carry = np.concatenate([carry, pcm], axis=1)
                width = rate // PEAKS_PER_SECOND
                whole = carry.shape[1] // width
                if whole:
                    block = carry[:, : whole * width].reshape(2, whole, width)
                    slices.append(np.abs(block).max(axis=2))
                    carry = carry[:, whole * width :]
    except (av.error.FFmpegError, IndexError) as error:
        raise UnreadableRecordingError(f"the recording cannot be decoded: {error}") from error
    if carry.shape[1]:
        slices.append(np.abs(carry).max(axis=1, keepdims=True))
    peaks = np.concatenate(slices, axis=1) if slices else np.zeros((2, 0), dtype=np.float32)
    group = max(1, math.ceil(peaks.shape[1] / MAX_PEAKS))
    if group > 1:
        padded = np.pad(peaks, ((0, 0), (0, (-peaks.shape[1]) % group)))
        peaks = padded.reshape(2, -1, group).max(axis=2)
    duration = samples / rate if rate else 0.0
    per_second = peaks.shape[1] / duration if duration else float(PEAKS_PER_SECOND)
    clipped = np.minimum(peaks, 1.0).astype(np.float64)
    left, right = (np.round(channel, 3).tolist() for channel in clipped)
    return RecordingPeaks(round(duration, 3), round(per_second, 3), (left, right))


def _as_float_stereo(samples: np.ndarray, channels: int) -> np.ndarray:
    """A decoded frame (planar: a row per channel; packed: one interleaved row) as float32 in
    [-1, 1], shape (2, n)."""
    if samples.shape[0] != channels:
        samples = samples.reshape(-1, channels).T
    if np.issubdtype(samples.dtype, np.integer):
        samples = samples.astype(np.float32) / float(np.iinfo(samples.dtype).max + 1)
    samples = samples.astype(np.float32, copy=False)
    if samples.shape[0] == 1:
        samples = np.repeat(samples, 2, axis=0)
    return samples[:2]
