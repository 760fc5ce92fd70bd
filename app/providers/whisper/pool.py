"""The decode workers every call shares: finals first, interims only with a worker to spare.

A final is what the caller waits for, an interim only an early look at it. So finals are taken
before any interim, and interims may occupy all workers but one: a final never waits behind an
interim (with one worker it waits for at most the one running). Each call has at most one
interim queued (a newer one replaces it: its audio holds more) and an interim that waited longer
than `stale_after_s` is dropped, not decoded: under load a call gets fewer interims and the same
finals.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Hashable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from app.observability.metrics import OFFLINE_STT_DECODES

log = logging.getLogger(__name__)

T = TypeVar("T")

# An interim queued for longer than this describes audio the caller has long spoken past.
STALE_AFTER_S = 0.3


@dataclass(slots=True)
class _Job(Generic[T]):
    work: Callable[[], T]
    kind: str = "interim"  # as counted: interim, final, or early (a final started early)
    future: Future[T | None] = field(default_factory=Future)
    queued_at: float = field(default_factory=time.monotonic)


class DecodePool(Generic[T]):
    """`workers` threads running decodes; `submit_final` and `offer_interim` return futures
    (an interim's resolves to None when it was dropped or replaced)."""

    def __init__(
        self, workers: int, *, stale_after_s: float = STALE_AFTER_S, name: str = "whisper"
    ) -> None:
        if workers < 1:
            raise ValueError("a decode pool needs at least one worker")
        self.workers = workers
        self._interim_slots = max(1, workers - 1)
        self._stale_after_s = stale_after_s
        self._lock = threading.Condition()
        self._finals: deque[_Job[T]] = deque()
        self._interims: OrderedDict[Hashable, _Job[T]] = OrderedDict()
        self._interims_running = 0
        self._closed = False
        self._threads = [
            threading.Thread(target=self._run, name=f"{name}-{index}", daemon=True)
            for index in range(workers)
        ]
        for thread in self._threads:
            thread.start()

    def submit_final(self, work: Callable[[], T], *, kind: str = "final") -> Future[T | None]:
        job: _Job[T] = _Job(work, kind)
        with self._lock:
            if self._closed:
                raise RuntimeError("the decode pool is closed")
            self._finals.append(job)
            self._lock.notify()
        return job.future

    def offer_interim(self, key: Hashable, work: Callable[[], T]) -> Future[T | None]:
        """Queue an interim for `key` (a call), replacing the one it has waiting, if any."""
        job: _Job[T] = _Job(work)
        with self._lock:
            if self._closed:
                raise RuntimeError("the decode pool is closed")
            replaced = self._interims.pop(key, None)
            self._interims[key] = job
            self._lock.notify()
        if replaced is not None:
            _drop(replaced, "replaced")
        return job.future

    def withdraw_interim(self, key: Hashable) -> None:
        """Forget `key`'s queued interim (its call asked for a final, or hung up)."""
        with self._lock:
            job = self._interims.pop(key, None)
        if job is not None:
            _drop(job, "withdrawn")

    def close(self) -> None:
        with self._lock:
            self._closed = True
            waiting = list(self._finals) + list(self._interims.values())
            self._finals.clear()
            self._interims.clear()
            self._lock.notify_all()
        for job in waiting:
            job.future.cancel()

    def _next(self) -> tuple[_Job[T], bool] | None:
        """The next job and whether it is an interim; None once closed. Holds the lock."""
        while True:
            if self._closed:
                return None
            if self._finals:
                return self._finals.popleft(), False
            while self._interims and self._interims_running < self._interim_slots:
                _, job = self._interims.popitem(last=False)
                if time.monotonic() - job.queued_at > self._stale_after_s:
                    _drop(job, "stale")
                    continue
                self._interims_running += 1
                return job, True
            self._lock.wait()

    def _run(self) -> None:
        while True:
            with self._lock:
                taken = self._next()
            if taken is None:
                return
            job, interim = taken
            kind = job.kind
            try:
                if job.future.set_running_or_notify_cancel():
                    try:
                        result = job.work()
                    except BaseException as error:
                        OFFLINE_STT_DECODES.labels(kind, "failed").inc()
                        job.future.set_exception(error)
                    else:
                        OFFLINE_STT_DECODES.labels(kind, "decoded").inc()
                        job.future.set_result(result)
            finally:
                if interim:
                    with self._lock:
                        self._interims_running -= 1
                        self._lock.notify()


def _drop(job: _Job[T], why: str) -> None:
    OFFLINE_STT_DECODES.labels("interim", why).inc()
    if job.future.set_running_or_notify_cancel():
        job.future.set_result(None)
