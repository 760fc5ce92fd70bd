"""The cores the local models of one process share: a voice that is synthesizing goes first.

On two cores, Piper synthesizes a first clause ("Sure, we open at nine.") in about 75 ms alone
and in about 250 ms while llama.cpp writes the rest of the reply on both cores: the caller
waits for that first audio, while the rest of the reply is not needed for seconds (the model
writes about 75 tokens a second, the voice speaks about 3). So a generation that has already
written a first piece the voice can speak (a sentence, or a clause of `FIRST_CLAUSE_CHARS`, as
the engine's sentence cutter hands the voice its first piece) waits between tokens while any
voice of the process is synthesizing, at most `MAX_WAIT_S` per token and `MAX_WAIT_PER_REPLY_S`
per reply, so that a process whose voice never rests still writes every reply. A generation
still writing its first piece never waits: its own caller is waiting for it. Nor does one
while other work waits for the model's one thread (another call's reply or prompt), nor one
that is writing a tool call (`TOOL_CALL_OPENINGS`): nothing of it is spoken.

Process-wide by nature (the cores are), so one `LocalCores` per process: `LOCAL_CORES`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

# Where the engine's sentence cutter (app/engine/sentences.py) ends an answer's first piece: at
# the end of a sentence, or at a clause break once the piece is this long.
SENTENCE_ENDS = frozenset(".?!")
CLAUSE_BREAKS = frozenset(",;:—")
FIRST_CLAUSE_CHARS = 24
# How a reply that is a tool call begins (Qwen's `<tool_call>`, a bare or fenced JSON object).
TOOL_CALL_OPENINGS = ("<", "{", "[", "`")
MAX_WAIT_S = 0.15
MAX_WAIT_PER_REPLY_S = 1.0


class LocalCores:
    def __init__(
        self, max_wait_s: float = MAX_WAIT_S, max_wait_per_reply_s: float = MAX_WAIT_PER_REPLY_S
    ) -> None:
        self.max_wait_s = max_wait_s
        self.max_wait_per_reply_s = max_wait_per_reply_s
        self._lock = threading.Lock()
        self._voices = 0
        self._voices_quiet = threading.Event()
        self._voices_quiet.set()
        self.waits = 0  # times a generation waited for a voice (read by tests and benches)

    @contextmanager
    def synthesizing(self) -> Iterator[None]:
        """Around a voice's synthesis: generations that can wait, wait until it is done."""
        with self._lock:
            self._voices += 1
            self._voices_quiet.clear()
        try:
            yield
        finally:
            with self._lock:
                self._voices -= 1
                if self._voices == 0:
                    self._voices_quiet.set()

    def reply_pacer(self, others_waiting: Callable[[], bool] = lambda: False) -> ReplyPacer:
        """For one generation: call its `wrote(text)` after each piece of text it delivers;
        `others_waiting` says whether other work waits for the thread the generation holds."""
        return ReplyPacer(self, others_waiting)

    def _wait_for_voices(self, limit_s: float) -> float:
        if self._voices_quiet.is_set():
            return 0.0
        started = time.perf_counter()
        with self._lock:
            self.waits += 1
        self._voices_quiet.wait(limit_s)
        return time.perf_counter() - started


class ReplyPacer:
    """One reply's side of `LocalCores`: it waits for voices once its first piece is written."""

    def __init__(self, cores: LocalCores, others_waiting: Callable[[], bool]) -> None:
        self._cores = cores
        self._others_waiting = others_waiting
        self._first_piece_written = False
        self._tool_call = False
        self._chars = 0
        self._waited_s = 0.0

    def wrote(self, text: str) -> None:
        if self._tool_call:
            return
        opening = self._chars == 0 and text.lstrip().startswith(TOOL_CALL_OPENINGS)
        if opening or "<" in text:  # a tool call, at the start or after a few words
            self._tool_call = True
            return
        if not self._first_piece_written:
            for char in text:
                if self._chars == 0 and char.isspace():
                    continue
                self._chars += 1
                if char in SENTENCE_ENDS or (
                    char in CLAUSE_BREAKS and self._chars > FIRST_CLAUSE_CHARS
                ):
                    self._first_piece_written = True
            return
        budget = self._cores.max_wait_per_reply_s - self._waited_s
        if budget > 0 and not self._others_waiting():
            self._waited_s += self._cores._wait_for_voices(min(self._cores.max_wait_s, budget))


LOCAL_CORES = LocalCores()
