"""The recording writer process under failure: killed mid-call, unable to start, orphaned by
its serving process, stopped; calls' recordings fail alone and the next one records again."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from app.calls.recording import CallRecording, recording_path
from app.calls.recording_process import RecordingFailedError, RecordingProcess
from app.observability.metrics import REGISTRY

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
FRAME = (np.sin(np.arange(320) / 5) * 3000).astype(np.int16).tobytes()  # 20 ms at 16 kHz


def counted(name: str, labels: dict[str, str]) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def alive(pid: int) -> bool:
    """Whether `pid` runs (a zombie waiting to be reaped does not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat[stat.rindex(")") + 2] != "Z"


def gone_within(pid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def speak(recording: CallRecording, now: list[float], seconds: float) -> None:
    for _ in range(int(seconds / 0.02)):
        now[0] += 0.02
        recording.caller_frame(FRAME)


def open_recording(
    writer: RecordingProcess, directory: Path, call: str, now: list[float]
) -> CallRecording:
    clock: Callable[[], float] = lambda: now[0]  # noqa: E731
    return CallRecording(
        writer, directory, recording_path("org", call), rate=8000, hold_s=0.7, clock=clock
    )


def test_a_killed_writer_fails_its_recordings_and_the_next_call_records_again(
    tmp_path: Path,
) -> None:
    writer = RecordingProcess()
    now = [100.0]
    lost_before = counted("velox_recordings_failed_total", {"reason": "writer_lost"})
    died_before = counted("velox_recording_writer_exits_total", {"how": "died"})
    first = open_recording(writer, tmp_path, "first", now)
    speak(first, now, 1.0)
    writer.wait()
    killed = writer.process_id()
    assert killed is not None
    assert (tmp_path / "org" / "first.pcm.part").exists()  # streamed to disk as it goes

    os.kill(killed, signal.SIGKILL)
    assert gone_within(killed, 5)
    speak(first, now, 1.0)  # the call goes on; its frames have nowhere to go
    with pytest.raises(RecordingFailedError):
        asyncio.run(first.close())
    assert counted("velox_recordings_failed_total", {"reason": "writer_lost"}) == lost_before + 1
    assert counted("velox_recording_writer_exits_total", {"how": "died"}) == died_before + 1
    assert not list((tmp_path / "org").iterdir())  # its partial file went with it

    second = open_recording(writer, tmp_path, "second", now)
    speak(second, now, 1.0)
    summary = asyncio.run(second.close())
    assert summary["has_user_audio"] is True
    assert summary["duration_secs"] == pytest.approx(1.0, abs=0.1)
    assert (tmp_path / "org" / "second.mp3").stat().st_size > 0
    restarted = writer.process_id()
    assert restarted is not None
    assert restarted != killed
    writer.stop()
    assert writer.process_id() is None
    assert gone_within(restarted, 0)


def test_a_writer_that_cannot_start_fails_the_recording_and_not_the_call(tmp_path: Path) -> None:
    writer = RecordingProcess(command=[str(tmp_path / "no-such-python")])
    now = [100.0]
    failed_before = counted("velox_recording_writer_exits_total", {"how": "start_failed"})
    recording = open_recording(writer, tmp_path, "call", now)
    speak(recording, now, 1.0)
    with pytest.raises(RecordingFailedError):
        asyncio.run(recording.close())
    assert counted("velox_recording_writer_exits_total", {"how": "start_failed"}) > failed_before
    writer.stop()


def test_a_writer_that_fails_to_write_reports_why(tmp_path: Path) -> None:
    (tmp_path / "org").write_text("a file where the folder should be")
    writer = RecordingProcess()
    now = [100.0]
    recording = open_recording(writer, tmp_path, "call", now)
    speak(recording, now, 1.0)
    with pytest.raises(RecordingFailedError, match=r"FileExistsError|NotADirectoryError"):
        asyncio.run(recording.close())
    writer.stop()


def test_a_hung_writer_fails_the_recording_at_its_deadline_and_the_call_ends(
    tmp_path: Path,
) -> None:
    writer = RecordingProcess()
    now = [100.0]
    timeouts_before = counted("velox_recordings_failed_total", {"reason": "writer_timeout"})
    recording = CallRecording(
        writer,
        tmp_path,
        recording_path("org", "call"),
        rate=8000,
        hold_s=0.7,
        clock=lambda: now[0],
        finish_deadline_s=0.5,
    )
    speak(recording, now, 1.0)
    writer.wait()
    hung = writer.process_id()
    assert hung is not None
    os.kill(hung, signal.SIGSTOP)
    try:
        began = time.monotonic()
        with pytest.raises(RecordingFailedError, match="did not finish it within"):
            asyncio.run(recording.close())
        assert time.monotonic() - began < 2
        assert counted("velox_recordings_failed_total", {"reason": "writer_timeout"}) == (
            timeouts_before + 1
        )
    finally:
        os.kill(hung, signal.SIGCONT)
    writer.stop()  # its late answer goes to nobody; it still stops cleanly
    assert gone_within(hung, 0)


def test_the_writer_ends_when_its_serving_process_dies(tmp_path: Path) -> None:
    serving = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(
                f"""
                import time
                from pathlib import Path
                from app.calls.recording import CallRecording
                from app.calls.recording_process import RecordingProcess

                writer = RecordingProcess()
                tap = CallRecording(writer, Path({str(tmp_path)!r}), "org/call.mp3",
                                    rate=8000, hold_s=0.7)
                tap.caller_frame(bytes(640))
                writer.wait()
                print(writer.process_id(), flush=True)
                time.sleep(60)
                """
            ),
        ],
        stdout=subprocess.PIPE,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert serving.stdout is not None
    child = int(serving.stdout.readline())
    assert alive(child)
    assert (tmp_path / "org" / "call.pcm.part").exists()
    serving.kill()
    serving.wait()
    assert gone_within(child, 5)  # its pipe ended: it exits by itself
    assert not (tmp_path / "org" / "call.pcm.part").exists()  # nobody will finish it
