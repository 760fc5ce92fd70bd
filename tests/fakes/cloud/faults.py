"""Faults the cloud doubles inject into a share of their requests, drawn from a seeded plan.

A plan decides, request by request, whether the double answers normally or fails, and how:
- `HANG_BEFORE`: accepts the request and never answers (a stalled upstream);
- `HANG_AFTER`: answers its first bytes, then nothing more (a stream stalled mid-answer);
- `RESET`: answers its first bytes, then the TCP connection is reset;
- `SERVER_ERROR`: the service's own 5xx (an HTTP 503, or a 1011 close on a WebSocket).

The draw is deterministic for a seed: the n-th request a double receives always gets the same
fate (which call that request belongs to depends on the run's timing). A plan can be switched
off (`enabled`) so a run can end with the providers healthy again and watch breakers close.
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from enum import Enum


class Fault(Enum):
    HANG_BEFORE = "hang before the first byte"
    HANG_AFTER = "hang after the first bytes"
    RESET = "connection reset"
    SERVER_ERROR = "5xx"


class FaultPlan:
    """Which of a double's requests fail, and how (thread-safe: doubles serve from threads)."""

    def __init__(self, seed: int, rate: float = 0.3, *, hang_s: float = 120.0) -> None:
        self.rate = rate
        self.hang_s = hang_s  # how long a hung request holds its connection at most
        self.enabled = True
        self.requests = 0
        self.injected: Counter[Fault] = Counter()
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        self.released = threading.Event()  # set when the double shuts down: hangs end

    def next(self) -> Fault | None:
        """The fate of the next request: None to answer it normally."""
        with self._lock:
            self.requests += 1
            draw, kind = self._random.random(), self._random.choice(list(Fault))
            if not self.enabled or draw >= self.rate:
                return None
            self.injected[kind] += 1
            return kind

    @property
    def faults(self) -> int:
        return sum(self.injected.values())
