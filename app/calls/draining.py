"""A node that is asked to stop (SIGTERM) lets its calls end instead of cutting them.

It takes no new call from then on (`VoiceRuntime.draining`: Twilio's voice webhook answers 503,
the conversation socket refuses new conversations), lets the calls it holds go on for up to the
drain timeout, then has the agent say the shutdown message on each call still running and hang
up. Each call is saved as it ends, as any call is; one that outlasts even its goodbye is ended
by the service's shutdown (`service_shutdown`) and saved then.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass
from types import FrameType
from typing import Any

from app.calls.runtime import VoiceRuntime
from app.observability.metrics import CALLS_DRAINED

log = logging.getLogger(__name__)

SHUTDOWN_REASON = "service_shutdown"
# How long the calls wound up at the drain timeout have to say goodbye and hang up.
GOODBYE_WAIT_S = 15.0


@dataclass(frozen=True, slots=True)
class DrainReport:
    calls_at_start: int
    ended_on_their_own: int
    wound_up: int
    still_running: int  # after the goodbyes had their time: the shutdown ends them


async def drain(
    runtime: VoiceRuntime, timeout_s: float, message: str, goodbye_wait_s: float = GOODBYE_WAIT_S
) -> DrainReport:
    """Refuse new calls, wait for the live ones up to `timeout_s`, then wind up the rest."""
    runtime.draining = True
    at_start = len(runtime.live_calls)
    log.info("draining: %d call(s) in progress, up to %.0f s", at_start, timeout_s)
    await _until_closed(runtime, timeout_s)
    running = [session for session in runtime.live_calls.values() if not session.closed]
    # (A call answered just before the drain may start after it: never below zero.)
    ended_on_their_own = max(0, at_start - len(running))
    wound_up = sum(session.wind_up(SHUTDOWN_REASON, message) for session in running)
    await _until_closed(runtime, goodbye_wait_s)
    still = sum(1 for session in runtime.live_calls.values() if not session.closed)
    report = DrainReport(at_start, ended_on_their_own, wound_up, still)
    CALLS_DRAINED.labels(how="ended").inc(report.ended_on_their_own)
    CALLS_DRAINED.labels(how="wound_up").inc(report.wound_up)
    CALLS_DRAINED.labels(how="cut").inc(report.still_running)
    log.info("drained: %s", report)
    return report


async def _until_closed(runtime: VoiceRuntime, timeout_s: float) -> None:
    """Until every live call has ended, or `timeout_s` has passed."""
    waiting = [
        asyncio.ensure_future(session.wait_closed()) for session in runtime.live_calls.values()
    ]
    if not waiting:
        return
    try:
        await asyncio.wait(waiting, timeout=timeout_s)
    finally:
        for future in waiting:
            future.cancel()


class Drainer:
    """Drains the node once: on SIGTERM (when the service runs in the main thread, as `velox
    serve` does), or when `begin()` is called from any thread. A second SIGTERM while it drains
    stops the service at once. Once drained, the service is stopped by handing the signal to
    the handler that was there before (uvicorn's), which shuts the server down."""

    def __init__(self, runtime: VoiceRuntime, timeout_s: float, message: str) -> None:
        self._runtime = runtime
        self._timeout_s = timeout_s
        self._message = message
        self._loop = asyncio.get_running_loop()
        self._task: asyncio.Task[DrainReport] | None = None
        self._previous: Callable[[int, FrameType | None], Any] | int | None = None
        self._installed = False

    def install(self) -> bool:
        """Take SIGTERM over; False where signals cannot be (not the main thread)."""
        if threading.current_thread() is not threading.main_thread():
            return False
        self._previous = signal.getsignal(signal.SIGTERM)
        self._loop.add_signal_handler(signal.SIGTERM, self._start)
        self._installed = True
        return True

    def uninstall(self) -> None:
        if not self._installed:
            return
        self._installed = False
        self._loop.remove_signal_handler(signal.SIGTERM)
        if self._previous is not None:
            signal.signal(signal.SIGTERM, self._previous)

    def begin(self) -> None:
        """Start draining (thread-safe)."""
        self._loop.call_soon_threadsafe(self._start)

    def _start(self) -> None:
        if self._task is not None:
            log.warning("asked to stop again while draining: stopping now")
            self._stop_service()
            return
        self._task = self._loop.create_task(self._drain(), name="drain")

    async def _drain(self) -> DrainReport:
        try:
            return await drain(self._runtime, self._timeout_s, self._message)
        finally:
            self._stop_service()

    def _stop_service(self) -> None:
        if callable(self._previous):
            self._previous(signal.SIGTERM, None)
