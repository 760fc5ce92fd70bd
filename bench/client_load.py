"""How hard the load generator itself is working, so its own lag is not blamed on the server."""

from __future__ import annotations

import asyncio
import contextlib
import resource
import time
from array import array
from dataclasses import dataclass, field


def process_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@dataclass
class ClientLoad:
    """CPU time of this process, event-loop lag, and how late caller frames left."""

    tick_s: float = 0.01
    loop_lag_ms: array[float] = field(default_factory=lambda: array("d"))
    sender_lateness_ms: array[float] = field(default_factory=lambda: array("d"))
    cpu_seconds: float = 0.0
    _cpu_started: float = 0.0
    _task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._cpu_started = process_cpu_seconds()
        self._task = asyncio.create_task(self._watch_loop())

    async def stop(self) -> None:
        self.cpu_seconds = process_cpu_seconds() - self._cpu_started
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _watch_loop(self) -> None:
        while True:
            asked = time.monotonic()
            await asyncio.sleep(self.tick_s)
            self.loop_lag_ms.append((time.monotonic() - asked - self.tick_s) * 1000)
