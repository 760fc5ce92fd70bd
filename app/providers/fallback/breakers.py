"""Circuit breakers per provider and organization: a provider that keeps failing is skipped.

After `failure_threshold` failures in a row a breaker opens and new calls start on the next
provider of their fallback chain; after `cooldown_s` one call (and only one) may try the
provider again (half open): its success closes the breaker, its failure opens it for another
cooldown. A trial that is never decided (its call ended first) lapses after a cooldown, and
another call gets the next one. Keys are per organization because each uses its own key and
quota: one organization's exhausted quota must not move everyone else off a provider.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

from app.observability.metrics import PROVIDER_BREAKER_CLOSES, PROVIDER_BREAKER_OPENS

TRANSITIONS_KEPT = 1000


class Admission(Enum):
    CLOSED = "closed"  # the provider is in good standing
    TRIAL = "trial"  # half open: this caller is the one try
    REFUSED = "refused"  # open: go to the next provider


@dataclass(slots=True)
class _Breaker:
    failures: int = 0
    opened_at: float | None = None
    trial_at: float | None = None  # when the half-open try was handed out


class CircuitBreakers:
    def __init__(
        self,
        failure_threshold: int = 3,
        cooldown_s: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._threshold = failure_threshold
        self._cooldown_s = cooldown_s
        self._clock = clock
        self._breakers: dict[tuple[str, str], _Breaker] = {}
        self._lock = threading.Lock()
        # The latest openings and closings, oldest first: (clock time, provider, scope, what).
        self.transitions: deque[tuple[float, str, str, str]] = deque(maxlen=TRANSITIONS_KEPT)

    def admit(self, provider: str, scope: str) -> Admission:
        """Whether a call may use the provider; hands out the one half-open try when due."""
        with self._lock:
            breaker = self._breakers.get((provider, scope))
            if breaker is None or breaker.opened_at is None:
                return Admission.CLOSED
            now = self._clock()
            since = breaker.opened_at if breaker.trial_at is None else breaker.trial_at
            if now - since < self._cooldown_s:
                return Admission.REFUSED
            breaker.trial_at = now
            return Admission.TRIAL

    def allows(self, provider: str, scope: str) -> bool:
        """Closed, or open long enough that a try is due (it does not take the try)."""
        with self._lock:
            breaker = self._breakers.get((provider, scope))
            if breaker is None or breaker.opened_at is None:
                return True
            since = breaker.opened_at if breaker.trial_at is None else breaker.trial_at
            return self._clock() - since >= self._cooldown_s

    def is_open(self, provider: str, scope: str) -> bool:
        with self._lock:
            breaker = self._breakers.get((provider, scope))
            return breaker is not None and breaker.opened_at is not None

    def record_success(self, provider: str, scope: str, *, trial: bool = False) -> bool:
        """The provider worked: the failures in a row start again from zero. An open breaker
        closes only on its half-open try (`trial`): a call that was already using the provider
        says nothing about new calls. True when this closed an open breaker."""
        with self._lock:
            breaker = self._breakers.get((provider, scope))
            if breaker is None:
                return False
            if breaker.opened_at is not None and not trial:
                return False
            del self._breakers[(provider, scope)]
            if breaker.opened_at is None:
                return False
            self.transitions.append((self._clock(), provider, scope, "closed"))
        PROVIDER_BREAKER_CLOSES.labels(provider=provider).inc()
        return True

    def record_failure(self, provider: str, scope: str, *, trial: bool = False) -> bool:
        """The provider failed. True when that opened its breaker, or a failed half-open try
        (`trial`) opened it again for another cooldown."""
        with self._lock:
            breaker = self._breakers.setdefault((provider, scope), _Breaker())
            if breaker.opened_at is not None and not trial:
                return False  # already open: a call that started before says nothing new
            breaker.failures += 1
            if breaker.failures < self._threshold and breaker.opened_at is None:
                return False
            breaker.opened_at = self._clock()
            breaker.trial_at = None
            self.transitions.append((breaker.opened_at, provider, scope, "opened"))
        PROVIDER_BREAKER_OPENS.labels(provider=provider).inc()
        return True
