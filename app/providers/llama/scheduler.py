"""The model's one thread, shared by several generations at once: they take turns a token each.

llama.cpp is not re-entrant, and on two cores one thread is all the model gets. A reply used to
hold that thread until it was done: in a burst of six offline calls the fourth question waited
for three whole replies (1.5 s or more each) and missed the 3 s first-token timeout (11 of 30
calls, bench section 4). Now each generation runs on a context of its own (up to
`max_contexts`, each opened on first need) and the thread steps them in turn, a token each:

- a reply still writing its first piece (what its voice says first: `ReplyPacer.urgent`) gets
  every other step; of several such replies the oldest, until its first piece is out (on one
  thread, taking turns would make each caller wait as long as the last). The steps between go
  to the replies being spoken, one at a time in turn: they have seconds of words for their
  voice to say while the model writes tens of tokens a second, but must never stall;
- when every generation could wait for the voices (`ReplyPacer.patient`) and no work is queued,
  a synthesizing voice gets the cores first, within each reply's budget (`LocalCores`);
- work beyond the contexts waits its turn, first come first served;
- a step takes only its share of the cores while a voice synthesizes (`LocalCores`).
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
        share_cores: Callable[[C, bool], None],
        max_contexts: int,
        cores: LocalCores,
        name: str,
    ) -> None:
        if max_contexts < 1:
            raise ValueError("the model needs at least one context")
        self.max_contexts = max_contexts
        self._open_context = open_context
        self._share_cores = share_cores
        self._cores = cores
        self._lock = threading.Condition()
        self._queue: deque[Job[C]] = deque()
        self._closed = False
        # Touched by the thread only:
        self._free: list[C] = [first]
        self._opened = 1
        self._active: list[_Running[C]] = []
        self._turn = 0  # which of the replies past their first piece steps beside an urgent one
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
                    self._cores.generating = False
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
            self._active.append(_Running(job, context))  # runs nothing until stepped

    def _round(self) -> None:
        """A step of the oldest urgent generation; else, after letting the voices go first if
        every generation may wait, one step of each."""
        # A voice starting now shares the cores only with work this thread will do beside it:
        # not with replies that all wait for the voices.
        self._cores.generating = any(not running.patient for running in self._active)
        if not self._active:
            return
        urgent = [running for running in self._active if running.urgent]
        if urgent:
            # The oldest urgent reply, and a turn for one of the others so that a reply being
            # spoken never stalls behind a stream of new questions.
            others = [running for running in self._active if not running.urgent]
            stepping = urgent[:1]
            if others:
                self._turn = (self._turn + 1) % len(others)
                stepping.append(others[self._turn])
        else:
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
        self._share_cores(running.context, self._cores.shares_cores(voice=False))
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
