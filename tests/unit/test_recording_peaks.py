"""A recording's peaks per channel: the caller's lane and the agent's, cached beside the file."""

from __future__ import annotations

import os
from pathlib import Path

import lameenc
import numpy as np
import pytest

from app.calls.recording_peaks import (
    MAX_PEAKS,
    UnreadableRecordingError,
    compute_peaks,
    peaks_path,
    recording_peaks,
)

pytestmark = pytest.mark.unit

RATE = 16_000


def write_turns_mp3(path: Path, seconds: int) -> Path:
    """Stereo MP3: a tone on the left in odd 2 s turns (the caller), on the right in even ones."""
    t = np.arange(RATE * seconds) / RATE
    tone = (np.sin(2 * np.pi * 440 * t) * 16000).astype(np.int16)
    turn = (t // 2).astype(int)
    stereo = np.zeros((len(t), 2), dtype=np.int16)
    stereo[:, 0] = np.where(turn % 2 == 1, tone, 0)
    stereo[:, 1] = np.where(turn % 2 == 0, tone, 0)
    encoder = lameenc.Encoder()
    encoder.set_bit_rate(40)
    encoder.set_in_sample_rate(RATE)
    encoder.set_channels(2)
    encoder.set_quality(7)
    path.write_bytes(encoder.encode(stereo.tobytes()) + encoder.flush())
    return path


def test_each_channel_is_loud_where_its_speaker_spoke(tmp_path: Path) -> None:
    peaks = compute_peaks(write_turns_mp3(tmp_path / "call.mp3", 8))

    assert peaks.duration_secs == pytest.approx(8.0, abs=0.1)
    assert peaks.peaks_per_second == pytest.approx(50, abs=1)
    left, right = (np.array(channel) for channel in peaks.channels)
    assert len(left) == len(right) == pytest.approx(400, abs=5)

    def at(channel: np.ndarray, second: float) -> float:
        return float(channel[int(second * peaks.peaks_per_second)])

    for second in (0.5, 4.5):  # the agent's turns
        assert at(right, second) > 0.4
        assert at(left, second) < 0.02
    for second in (2.5, 6.5):  # the caller's
        assert at(left, second) > 0.4
        assert at(right, second) < 0.02


def test_a_long_call_is_drawn_from_at_most_max_peaks_per_channel(tmp_path: Path) -> None:
    peaks = compute_peaks(write_turns_mp3(tmp_path / "long.mp3", 100))

    assert MAX_PEAKS // 2 < len(peaks.channels[0]) <= MAX_PEAKS
    assert peaks.duration_secs == pytest.approx(100.0, abs=0.2)
    assert len(peaks.channels[0]) / peaks.peaks_per_second == pytest.approx(100.0, abs=0.5)


def test_peaks_are_cached_beside_the_recording_and_remade_when_it_changes(tmp_path: Path) -> None:
    recording = write_turns_mp3(tmp_path / "call.mp3", 4)
    first = recording_peaks(recording)
    cache = peaks_path(recording)
    assert cache.name == "call.mp3.peaks.json"
    assert recording_peaks(recording) == first

    write_turns_mp3(recording, 6)
    os.utime(cache, (0, 0))  # older than the recording now
    assert recording_peaks(recording).duration_secs == pytest.approx(6.0, abs=0.1)


def test_a_file_that_is_not_audio_is_a_clear_error(tmp_path: Path) -> None:
    broken = tmp_path / "broken.mp3"
    broken.write_bytes(b"this is not an mp3 at all" * 10)
    with pytest.raises(UnreadableRecordingError, match="cannot be decoded"):
        compute_peaks(broken)
