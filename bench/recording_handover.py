"""What handing half a second of a recorded call to the writer process costs the event loop.

Three ways, each timed on the thread that would be the event loop's, per hand-over of one
call's batch (25 caller frames of 20 ms at 16 kHz and 25 agent frames at 8 kHz):

- queue: the batch's lists put on the sender thread's queue, as `RecordingProcess.write` does
  (the real writer process running behind it); the sender thread then pickles and writes them,
  and the time it holds the interpreter for that is measured apart (`pickle` below);
- pipe: the event loop pickles the batch and writes it to the pipe itself;
- shared memory: the event loop copies the batch's audio into a shared memory block and queues
  only where it is and its times.

Prints the figures; writes no results file.
"""

from __future__ import annotations

import argparse
import os
import pickle
import queue
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from multiprocessing import shared_memory
from pathlib import Path

from app.calls.recording_mix import AgentFrame, CallerFrame
from app.calls.recording_process import RecordingProcess
from app.calls.recording_wire import pack
from bench.stats import summarize

CALLER = bytes(640)
AGENT = bytes(320)


def batch(now: float) -> tuple[list[CallerFrame], list[AgentFrame]]:
    caller = [(CALLER, now + n * 0.02) for n in range(25)]
    agent = [(AGENT, 8000, now + n * 0.02) for n in range(25)]
    return caller, agent


def timed(
    handover: Callable[[list[CallerFrame], list[AgentFrame], float], None], count: int
) -> list[float]:
    """Microseconds per hand-over, each timed alone (the batch built beforehand, as the frames
    were appended during the half second)."""
    costs = []
    for index in range(count):
        caller, agent = batch(float(index))
        began = time.perf_counter_ns()
        handover(caller, agent, float(index))
        costs.append((time.perf_counter_ns() - began) / 1000)
        if index % 50 == 49:
            time.sleep(0.005)  # the loop's other work; lets the reader keep up
    return costs


def queue_handover(count: int, directory: Path) -> list[float]:
    writer = RecordingProcess()
    keys = [writer.open(directory / f"call{n}.mp3", 8000, 0.0, 0.7) for n in range(100)]
    writer.wait()
    costs = timed(lambda c, a, now: writer.write(keys[int(now) % 100], c, a, now), count)
    writer.wait()
    writer.stop()
    return costs


def pipe_handover(count: int) -> list[float]:
    sink = subprocess.Popen(["cat"], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL)
    assert sink.stdin is not None
    fd = sink.stdin.fileno()

    def handover(caller: list[CallerFrame], agent: list[AgentFrame], now: float) -> None:
        os.write(fd, pack([("batch", 1, caller, agent, now)]))

    costs = timed(handover, count)
    sink.stdin.close()
    sink.wait()
    return costs


def shared_memory_handover(count: int) -> list[float]:
    block = shared_memory.SharedMemory(create=True, size=4 * 2**20)
    notices: queue.SimpleQueue[tuple[int, list[float], list[tuple[int, float]], float]] = (
        queue.SimpleQueue()
    )
    offset = [0]
    memory = block.buf
    assert memory is not None

    def handover(caller: list[CallerFrame], agent: list[AgentFrame], now: float) -> None:
        audio = b"".join([pcm for pcm, _ in caller] + [pcm for pcm, _, _ in agent])
        start = offset[0] if offset[0] + len(audio) <= block.size else 0
        memory[start : start + len(audio)] = audio
        offset[0] = start + len(audio)
        notices.put((start, [at for _, at in caller], [(rate, at) for _, rate, at in agent], now))

    try:
        return timed(handover, count)
    finally:
        memory.release()
        block.close()
        block.unlink()


def pickle_cost(count: int) -> list[float]:
    """The sender thread's time holding the interpreter per batch: pickling it."""
    costs = []
    for index in range(count):
        caller, agent = batch(float(index))
        began = time.perf_counter_ns()
        pickle.dumps([("batch", 1, caller, agent, float(index))], pickle.HIGHEST_PROTOCOL)
        costs.append((time.perf_counter_ns() - began) / 1000)
    return costs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.recording_handover", description=__doc__)
    parser.add_argument("--count", type=int, default=5000, help="hand-overs per way")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="velox-handover-") as directory:
        ways = {
            "queue (sender thread)": queue_handover(args.count, Path(directory)),
            "pipe (on the loop)": pipe_handover(args.count),
            "shared memory": shared_memory_handover(args.count),
            "sender's pickling": pickle_cost(args.count),
        }
    print("per hand-over of one call's half second, microseconds p50 / p95 / p99 / max:")
    for name, costs in ways.items():
        figures = summarize(costs)
        print(
            f"  {name:24} {figures.p50:.1f} / {figures.p95:.1f} / {figures.p99:.1f} / "
            f"{figures.max:.1f} (n={figures.count})"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
