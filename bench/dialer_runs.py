"""The dialer's measured runs: real Celery worker processes on Redis, ticks sent as beat would
send them, and what every tick and dial did, read back from the workers' timings.

A claim run sends passes: one tick per worker at once, all given the same `now`, then waits for
every one of them. Between passes the bench ends the claimed attempts (as if each call had
been answered and completed at once) and moves `now` on by a minute, so neither the per-minute
limit nor the in-progress limit stops the next pass. Those workers take only the bench's tick
queue: the dial tasks the ticks send stay queued. A dial run's workers take both queues, as in
production, and dial a pass's claims through the real `twilio` client against the REST double.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from celery import Celery

from bench.machine import cpu_seconds, tree_cpu_seconds
from workers.celery_app import DEFAULT_QUEUE

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")

TICK = "workers.dialer.tick"
DIAL = "workers.dialer.dial"
TICK_QUEUE = "bench-dialer-ticks"
DIAL_QUEUE = DEFAULT_QUEUE  # where `tick` sends `dial`
PASS_STEP = timedelta(minutes=1, seconds=1)  # past the per-minute limit's sliding window
WORKER_READY_S = 60.0
PROJECT_ROOT = Path(__file__).resolve().parent.parent


@dataclass
class WorkerGroup:
    """`count` worker processes (`python -m bench.dialer_worker`), one pool process each."""

    processes: list[subprocess.Popen[bytes]]
    logs: list[Path]
    timings: list[Path]

    @classmethod
    def start(cls, count: int, queues: str, env: dict[str, str], directory: Path) -> WorkerGroup:
        stamp = time.monotonic_ns()
        group = cls([], [], [])
        for n in range(count):
            log = directory / f"worker-{stamp}-{n}.log"
            timings = directory / f"timings-{stamp}-{n}.jsonl"
            with log.open("wb") as output:
                process = subprocess.Popen(
                    [sys.executable, "-m", "bench.dialer_worker", f"bench{n}", queues],
                    cwd=PROJECT_ROOT,
                    env={**env, "BENCH_DIALER_TIMINGS": str(timings)},
                    stdout=output,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            group.processes.append(process)
            group.logs.append(log)
            group.timings.append(timings)
        group._wait_until_ready()
        return group

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + WORKER_READY_S
        waiting = list(zip(self.processes, self.logs, strict=True))
        while waiting:
            if time.monotonic() > deadline or any(p.poll() is not None for p, _ in waiting):
                self.stop()
                tail = "\n".join(log.read_text(errors="replace")[-2000:] for _, log in waiting)
                raise RuntimeError(f"a dialer worker did not start:\n{tail}")
            waiting = [(p, log) for p, log in waiting if " ready." not in log.read_text()]
            time.sleep(0.1)

    def cpu_seconds(self) -> float:
        return sum(tree_cpu_seconds(p.pid) for p in self.processes if p.poll() is None)

    def stop(self) -> None:
        """A warm shutdown: each worker finishes the task it is running, then exits. Only the
        main process is signalled: a SIGTERM to its pool process would kill the task."""
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)

    def have_dialed(self) -> bool:
        """Whether every worker has finished a dial (its first one pays for lazy imports)."""
        return all(
            path.exists() and f'"task": "{DIAL}"' in path.read_text() for path in self.timings
        )

    def records(self) -> list[dict[str, Any]]:
        """Every task's timings, as `bench.dialer_worker` wrote them."""
        records = []
        for path in self.timings:
            if path.exists():
                records += [json.loads(line) for line in path.read_text().splitlines() if line]
        return records


def postgres_cpu_seconds(database: str) -> float:
    """CPU time of the PostgreSQL backends serving `database` (their title names it)."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            title = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            if title.startswith("postgres: ") and f" {database} " in title:
                total += cpu_seconds(int(entry.name))
        except OSError:
            continue
    return total


def machine_busy_seconds() -> float:
    """CPU time every core of this machine spent not idle since boot (/proc/stat)."""
    fields = [int(n) for n in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle, iowait
    return (sum(fields[:8]) - idle) / CLOCK_TICKS


@dataclass
class CpuMeter:
    """CPU seconds since the meter was made: the workers, the PostgreSQL backends of the
    bench's database, and everything else on the machine (other sessions' work included)."""

    workers: WorkerGroup
    database: str
    start: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)

    def __post_init__(self) -> None:
        self.start = self._now()

    def _now(self) -> tuple[float, float, float, float]:
        return (
            self.workers.cpu_seconds(),
            postgres_cpu_seconds(self.database),
            cpu_seconds(os.getpid()),
            machine_busy_seconds(),
        )

    def read(self) -> tuple[float, float, float]:
        workers, postgres, bench, busy = (
            now - then for now, then in zip(self._now(), self.start, strict=True)
        )
        return workers, postgres, max(0.0, busy - workers - postgres - bench)


@dataclass(frozen=True, slots=True)
class Pass:
    """One pass: a tick per worker sent at `sent`, every one back by `done`."""

    now: datetime
    sent: float
    done: float
    claimed: int
    claiming_pids: int  # distinct worker processes whose tick claimed something
    locked: int  # campaigns a tick found held by another tick, summed over the ticks
    resent: int

    @property
    def seconds(self) -> float:
        return self.done - self.sent


def send_pass(celery: Celery, ticks: int, now: datetime) -> Pass:
    sent = time.time()
    pending = [
        celery.send_task(TICK, kwargs={"now": now.isoformat()}, queue=TICK_QUEUE)
        for _ in range(ticks)
    ]
    results: list[dict[str, Any]] = [tick.get(timeout=300) for tick in pending]
    return Pass(
        now=now,
        sent=sent,
        done=time.time(),
        claimed=sum(len(r["claimed"]) for r in results),
        claiming_pids=len({r["worker_pid"] for r in results if r["claimed"]}),
        locked=sum(len(r["locked"]) for r in results),
        resent=sum(len(r["resent"]) for r in results),
    )


@dataclass
class ClaimRun:
    layout: str
    workers: int
    passes: list[Pass] = field(default_factory=list)
    records: list[dict[str, Any]] = field(default_factory=list)
    cpu: tuple[float, float, float] = (0.0, 0.0, 0.0)  # workers, PostgreSQL, the rest
    warm_up_claims: int = 0  # claimed by the warm-up pass, which is not measured
    attempts_in_table: int = 0
    leads_claimed_twice: int = 0

    @property
    def claims(self) -> int:
        return sum(p.claimed for p in self.passes)

    @property
    def seconds(self) -> float:
        return sum(p.seconds for p in self.passes)

    def ticks(self) -> list[dict[str, Any]]:
        """The timings of the ticks of the measured passes (not the warm-up's)."""
        return [
            r
            for r in self.records
            if r["task"] == TICK and any(p.sent <= r["start"] <= p.done for p in self.passes)
        ]

    def committed_seconds(self) -> float:
        """Per pass, from sending the ticks to the last claim committed (a tick sends its dial
        tasks only after its claims are committed), summed over the passes."""
        total = 0.0
        ticks = self.ticks()
        for one in self.passes:
            ends = [
                t["first_sent"] or t["end"]
                for t in ticks
                if one.sent <= t["start"] <= one.done and t.get("claimed")
            ]
            total += (max(ends) if ends else one.done) - one.sent
        return total

    def send_ms_per_task(self) -> float:
        """Time a tick spent sending its dial tasks, per task sent."""
        ticks = [t for t in self.ticks() if t["sent"]]
        spent = sum(t["end"] - t["first_sent"] for t in ticks)
        sent = sum(t["sent"] for t in ticks)
        return 1000 * spent / sent if sent else float("nan")


@dataclass
class DialRun:
    layout: str
    workers: int
    backlog: int = 0  # claims whose dial tasks were queued
    window_s: float = 0.0
    dialed_in_window: int = 0
    twilio_creates: int = 0
    numbers_dialed_twice: int = 0
    attempts_dialed: int = 0
    attempts_dialing: int = 0  # left mid-dial after the workers' warm shutdown
    leads_claimed_twice: int = 0
    records: list[dict[str, Any]] = field(default_factory=list)
    cpu: tuple[float, float, float] = (0.0, 0.0, 0.0)  # workers, PostgreSQL, the rest
    # The resend check: a tick `resend_after_s` (of the bench's clock) after the claims.
    resend_after_s: float = 0.0
    resent: int = 0
    still_claimed: int = 0
    queue_before: int = 0
    queue_after: int = 0

    @property
    def dials_per_s(self) -> float:
        return self.dialed_in_window / self.window_s if self.window_s else float("nan")

    def dial_ms(self) -> list[float]:
        return [1000 * (r["end"] - r["start"]) for r in self.records if r["task"] == DIAL]
