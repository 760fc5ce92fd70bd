"""The cores the local models of one process share: a voice that is synthesizing goes first.

On two cores, Piper synthesizes a first clause ("Sure, we open at nine.") in about 75 ms alone
and in about 250 ms while llama.cpp writes the rest of the reply on both cores: the caller
waits for that first audio, while the rest of the reply is not needed for seconds (the model
writes about 75 tokens a second, the voice speaks about 3 words). So a generation that has
already written a first piece the voice can speak (a sentence, or a clause of
`FIRST_CLAUSE_CHARS`, as the engine's sentence cutter hands the voice its first piece) is
`patient`: the model's thread may wait between its tokens while any voice of the process is
synthesizing, at most `MAX_WAIT_S` at a time and `MAX_WAIT_PER_REPLY_S` per reply, so that a
process whose voice never rests still writes every reply. A generation still writing its first
piece is `urgent`: its own caller is waiting for it. One writing a tool call
(`TOOL_CALL_OPENINGS`) stays urgent: nothing of it is spoken, and its caller waits for the tool.
The model's scheduler (`app/providers/llama/scheduler.py`) decides with these when to wait.

Process-wide by nature (the cores are), so one `LocalCores` per process: `LOCAL_CORES`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
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

    def reply_pacer(self) -> ReplyPacer:
        """For one generation: call its `wrote(text)` after each piece of text it delivers."""
        return ReplyPacer(self)

    def voices_busy(self) -> bool:
        return not self._voices_quiet.is_set()

    def wait_for_voices(self, limit_s: float) -> float:
        """Wait until no voice synthesizes, at most `limit_s`; the seconds waited."""
        if self._voices_quiet.is_set() or limit_s <= 0:
            return 0.0
        started = time.perf_counter()
        with self._lock:
            self.waits += 1
        self._voices_quiet.wait(limit_s)
        return time.perf_counter() - started


class ReplyPacer:
    """One reply's side of `LocalCores`: urgent until its first piece is written, then patient
    while its budget for waiting lasts."""

    def __init__(self, cores: LocalCores) -> None:
        self._cores = cores
        self._first_piece_written = False
        self._tool_call = False
        self._chars = 0
        self._waited_s = 0.0

    @property
    def urgent(self) -> bool:
        return not self._first_piece_written

    @property
    def patient(self) -> bool:
        return self._first_piece_written and not self._tool_call and self.budget_left_s > 0

    @property
    def budget_left_s(self) -> float:
        return self._cores.max_wait_per_reply_s - self._waited_s

    def waited(self, seconds: float) -> None:
        self._waited_s += seconds

    def wrote(self, text: str) -> None:
        if self._tool_call:
            return
        opening = self._chars == 0 and text.lstrip().startswith(TOOL_CALL_OPENINGS)
        if opening or "<" in text:  # a tool call, at the start or after a few words
            self._tool_call = True
            return
        if self._first_piece_written:
            return
        for char in text:
            if self._chars == 0 and char.isspace():
                continue
            self._chars += 1
            if char in SENTENCE_ENDS or (
                char in CLAUSE_BREAKS and self._chars > FIRST_CLAUSE_CHARS
            ):
                self._first_piece_written = True
                return


LOCAL_CORES = LocalCores()
