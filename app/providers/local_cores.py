"""The cores the local models of one process share: a voice that is synthesizing goes first.

On two cores, Piper synthesizes a first clause ("Sure, we open at nine.") in about 75 ms alone
and in about 250 ms while llama.cpp writes the rest of the reply on both cores: the caller
waits for that first audio, while the rest of the reply is not needed for seconds (the model
writes about 75 tokens a second, the voice speaks about 3 words). So a generation that has
already written a first piece the voice can speak (the first cut of `sentences.py`, as the engine
hands its voice the reply: a sentence, or a first clause past 24 characters) is
`patient`: the model's thread may wait between its tokens while any voice of the process is
synthesizing, at most `MAX_WAIT_S` at a time and `MAX_WAIT_PER_REPLY_S` per reply, so that a
process whose voice never rests still writes every reply. A generation still writing its first
piece is `urgent`: its own caller is waiting for it. One writing a tool call
(`TOOL_CALL_OPENINGS`) stays urgent: nothing of it is spoken, and its caller waits for the tool.
The model's scheduler (`app/providers/llama/scheduler.py`) decides with these when to wait.

Each also takes only its share of the cores while the other works (`shares_cores`): with
llama.cpp's OpenMP threads and the voice's onnxruntime threads both on two cores, measured on
this machine kind, a token took 85 ms instead of 16 and a sentence 544 ms instead of 225; with
one thread each, 24 ms and 377 ms side by side. Alone, each takes all its threads.

Process-wide by nature (the cores are), so one `LocalCores` per process: `LOCAL_CORES`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from app.providers.sentences import SentenceAggregator

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
        # The model's thread has work it does beside a voice: a reply still writing its first
        # piece, or one that may no longer wait (set by its scheduler).
        self.generating = False

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

    def shares_cores(self, voice: bool) -> bool:
        """Whether a voice (or, if not `voice`, a generation) about to run should take only its
        share of the cores: the other kind of work is running too."""
        return self.generating if voice else self.voices_busy()

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
        self._sentences = SentenceAggregator()
        self._first_piece_written = False
        self._tool_call = False
        self._written = False  # anything but white space
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
        opening = not self._written and text.lstrip().startswith(TOOL_CALL_OPENINGS)
        self._written = self._written or bool(text.strip())
        if opening or "<" in text:  # a tool call, at the start or after a few words
            self._tool_call = True
            return
        if not self._first_piece_written and self._sentences.push(text):
            self._first_piece_written = True


LOCAL_CORES = LocalCores()
