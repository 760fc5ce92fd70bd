"""What the benchmark ran on, and a process's CPU time and memory read from /proc."""

from __future__ import annotations

import gc
import os
import platform
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True, slots=True)
class Machine:
    cores: int
    cpu_model: str
    ram_gib: float
    python: str
    load_average: tuple[float, float, float]

    def describe(self) -> str:
        one, five, fifteen = self.load_average
        return (
            f"{self.cores} cores ({self.cpu_model}), {self.ram_gib:.1f} GiB RAM, "
            f"Python {self.python}, load average {one:.2f} / {five:.2f} / {fifteen:.2f}"
        )


def this_machine() -> Machine:
    cpu_model = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu_model = line.split(":", 1)[1].strip()
            break
    return Machine(
        cores=os.cpu_count() or 0,
        cpu_model=cpu_model,
        ram_gib=_meminfo_kib("MemTotal") / 1024 / 1024,
        python=f"{platform.python_version()} ({sys.implementation.name})",
        load_average=os.getloadavg(),
    )


def load_average() -> tuple[float, float, float]:
    return os.getloadavg()


def _meminfo_kib(key: str) -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process `pid` (all its threads), from /proc/<pid>/stat."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    # The command name may contain spaces; fields after the closing parenthesis are fixed.
    fields = stat[stat.rindex(")") + 2 :].split()
    utime, stime = int(fields[11]), int(fields[12])
    return (utime + stime) / _CLOCK_TICKS


def resident_bytes(pid: int) -> int:
    """VmRSS of process `pid`."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def process_tree(pid: int) -> list[int]:
    """`pid` and every process descended from it (uvicorn's workers are children)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parents[int(entry.name)] = int(stat[stat.rindex(")") + 2 :].split()[1])
    tree, frontier = [pid], [pid]
    while frontier:
        children = [child for child, parent in parents.items() if parent in frontier]
        tree += children
        frontier = children
    return tree


def tree_cpu_seconds(pid: int) -> float:
    return sum(_quietly(cpu_seconds, p) for p in process_tree(pid))


def tree_resident_bytes(pid: int) -> int:
    return int(sum(_quietly(resident_bytes, p) for p in process_tree(pid)))


def _quietly(measure: Callable[[int], float], pid: int) -> float:
    try:
        return measure(pid)
    except OSError:
        return 0.0  # the process ended between listing and reading


@contextmanager
def client_heap_frozen() -> Iterator[None]:
    """While the bench's own callers run, keep what the bench loaded (utterances, arrays,
    libraries) out of Python's cycle collector: a full collection of this process stopped it
    for up to 0.77 s on a busy machine, and every frame it received meanwhile was counted late
    against the server."""
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
