"""The model's one thread, shared by several generations at once: they take turns a token each.

llama.cpp is not re-entrant, and on two cores one thread is all the model gets. A reply used to
hold that thread until it was done: in a burst of six offline calls the fourth question waited
for three whole replies (1.5 s or more each) and missed the 3 s first-token timeout (11 of 30
calls, bench section 4). Now each generation runs on a context of its own (up to
`max_contexts`, each opened on first need) and the thread steps them in turn, a token each:

- a reply still writing its first piece (what its voice says first: `ReplyPacer.urgent`) steps
  before replies that have written theirs: those have seconds of words for their voice to say,
  while the model writes tens of tokens a second;
- when every generation could wait for the voices (`ReplyPacer.patient`) and no work is queued,
  a synthesizing voice gets the cores first, within each reply's budget (`LocalCores`);
- work beyond the contexts waits its turn, first come first served.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from app.providers.local_cores import LocalCores, ReplyPacer

log = logging.getLogger(__name__)

C = TypeVar("C")


@dataclass(eq=False)
class Job(Generic[C]):
    """One piece of the model's work: `run(context)` yields after each step (a token)."""

    run: Callable[[C], Generator[None, None, None]]
    failed: Callable[[BaseException], None]  # told what a step raised
    finished: Callable[[], None]  # told once at the end, after a failure too
    pacer: ReplyPacer | None = None  # a spoken reply's; None for work nobody waits to hear


@dataclass(eq=False)
class _Running(Generic[C]):
    job: Job[C]
    context: C
    steps: Generator[None, None, None] = field(init=False)

    def __post_init__(self) -> None:
        self.steps = self.job.run(self.context)

    @property
    def urgent(self) -> bool:
        return self.job.pacer is not None and self.job.pacer.urgent

    @property
    def patient(self) -> bool:
        return self.job.pacer is not None and self.job.pacer.patient


class GenerationScheduler(Generic[C]):
    """Runs submitted jobs on one thread, a step of each in turn, each on a context of its own."""

    def __init__(
        self,
        first: C,
        open_context: Callable[[], C],
        *,
        max_contexts: int,
        cores: LocalCores,
        name: str,
    ) -> None:
        if max_contexts < 1:
            raise ValueError("the model needs at least one context")
        self.max_contexts = max_contexts
        self._open_context = open_context
        self._cores = cores
        self._lock = threading.Condition()
        self._queue: deque[Job[C]] = deque()
        self._closed = False
        # Touched by the thread only:
        self._free: list[C] = [first]
        self._opened = 1
        self._active: list[_Running[C]] = []
        self.steps = 0  # steps run (read by tests)
        self._thread = threading.Thread(target=self._run, name=f"{name}-llm", daemon=True)
        self._thread.start()

    @property
    def contexts_opened(self) -> int:
        return self._opened

    def submit(self, job: Job[C]) -> None:
        with self._lock:
            if self._closed:
                raise RuntimeError("the model's scheduler is closed")
            self._queue.append(job)
            self._lock.notify()

    def close(self) -> None:
        """Stop after the current step; queued and running work is told it failed."""
        with self._lock:
            self._closed = True
            self._lock.notify()
        self._thread.join(timeout=5.0)

    def _queued(self) -> bool:
        with self._lock:
            return bool(self._queue)

    def _run(self) -> None:
        while True:
            with self._lock:
                while not self._queue and not self._active and not self._closed:
                    self._lock.wait()
                if self._closed:
                    dropped = list(self._queue)
                    self._queue.clear()
                    break
            self._admit()
            self._round()
        closed = RuntimeError("the model was closed")
        for running in self._active:
            running.steps.close()
        for job in dropped + [running.job for running in self._active]:
            job.failed(closed)
            job.finished()

    def _admit(self) -> None:
        """Start queued work on the free contexts, opening more up to the limit."""
        while True:
            with self._lock:
                if not self._queue or (not self._free and self._opened >= self.max_contexts):
                    return
                job = self._queue.popleft()
            if self._free:
                context = self._free.pop()
            else:
                try:
                    context = self._open_context()
                except Exception as error:
                    # No more contexts than those open (memory, most likely): the work waits
                    # for one of them from now on.
                    log.warning("could not open another model context: %r", error)
                    self.max_contexts = self._opened
                    with self._lock:
                        self._queue.appendleft(job)
                    return
                self._opened += 1
            self._start(job, context)

    def _start(self, job: Job[C], context: C) -> None:
        try:
            running = _Running(job, context)
        except Exception as error:
            job.failed(error)
            job.finished()
            self._free.append(context)
            return
        self._active.append(running)

    def _round(self) -> None:
        """One step of each urgent generation; else, after letting the voices go first if every
        generation may wait, one step of each."""
        if not self._active:
            return
        stepping = [running for running in self._active if running.urgent]
        if not stepping:
            stepping = list(self._active)
            if (
                all(running.patient for running in stepping)
                and self._cores.voices_busy()
                and not self._queued()
            ):
                budgets = [r.job.pacer.budget_left_s for r in stepping if r.job.pacer is not None]
                waited = self._cores.wait_for_voices(min([self._cores.max_wait_s, *budgets]))
                for running in stepping:
                    if running.job.pacer is not None:
                        running.job.pacer.waited(waited)
        for running in stepping:
            self._step(running)

    def _step(self, running: _Running[C]) -> None:
        self.steps += 1
        try:
            next(running.steps)
            return
        except StopIteration:
            pass
        except Exception as error:
            running.job.failed(error)
        self._active.remove(running)
        self._free.append(running.context)
        running.job.finished()
