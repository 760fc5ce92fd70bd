"""`make run`'s script stops every process it started, on Ctrl-C and on SIGTERM alike.

The script runs on its embedded defaults (SQLite in a fresh data folder, the filesystem broker)
as `make run` does; the signal goes to its whole process group, as a terminal's Ctrl-C or a
process manager's stop does. Every process it started — the two workers with their pools and
the server — must be gone within the stop timeout.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.live_server import free_port

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
STOP_TIMEOUT_S = 20
STARTED_WITHIN_S = 180
EXPECTED = ("worker --queues celery", "--queues analysis", "--queues knowledge", "velox serve")


def _parents() -> dict[int, int]:
    parents = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone meanwhile
        parents[int(entry.name)] = int(fields[1])
    return parents


def _running(pid: int) -> bool:
    """Alive and not a zombie waiting for its parent to reap it."""
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _command(pid: int) -> str:
    try:
        return (Path("/proc") / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _descendants(root: int) -> set[int]:
    parents = _parents()
    found, frontier = set(), {root}
    while frontier:
        children = {pid for pid, parent in parents.items() if parent in frontier}
        frontier = children - found
        found |= children
    return found


@pytest.mark.parametrize("signal_number", [signal.SIGTERM, signal.SIGINT], ids=["TERM", "INT"])
def test_a_signal_to_make_runs_group_stops_every_process_it_started(
    tmp_path: Path, signal_number: int
) -> None:
    port = free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith("VELOX_")}
    env |= {
        "VELOX_DATA_DIR": str(tmp_path),
        "VELOX_PORT": str(port),
        "VELOX_STOP_TIMEOUT_S": str(STOP_TIMEOUT_S),
    }
    script = subprocess.Popen(
        ["scripts/run_all.sh", str(Path(sys.executable).parent)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,  # its own group, as a terminal's foreground job has
    )
    try:
        deadline = time.monotonic() + STARTED_WITHIN_S
        started: set[int] = set()
        while time.monotonic() < deadline:
            assert script.poll() is None, script.stderr.read().decode()[-2000:]  # type: ignore[union-attr]
            started = _descendants(script.pid)
            commands = [_command(pid) for pid in started]
            up = all(any(part in command for command in commands) for part in EXPECTED)
            # Each worker's pool has started too (a process under each worker's main process).
            pools = sum(1 for pid in started if "worker" in _command(_parents().get(pid, 0)))
            if up and pools >= 3 and _healthy(port):
                break
            time.sleep(0.5)
        else:
            pytest.fail(f"make run's processes did not all start within {STARTED_WITHIN_S} s")
        started = _descendants(script.pid)

        os.killpg(script.pid, signal_number)
        stop_by = time.monotonic() + STOP_TIMEOUT_S + 10
        left: set[int] = set()
        while time.monotonic() < stop_by:
            # Processes started after the signal (a pool replacing a child) count as well.
            started |= _descendants(script.pid) if script.poll() is None else set()
            left = {pid for pid in started if _running(pid)}
            if not left and script.poll() is not None:
                break
            time.sleep(0.2)
        assert not left, {pid: _command(pid) for pid in left}
        assert script.poll() is not None
    finally:
        for pid in _descendants(script.pid) | {script.pid}:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        script.wait(10)


def _healthy(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False
