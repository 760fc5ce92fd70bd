"""Circuit breakers per provider and organization: a provider that keeps failing is skipped.

After `failure_threshold` failures in a row a breaker opens and new calls start on the next
provider of their fallback chain; after `cooldown_s` one call may try the provider again (half
open) and a success closes the breaker. Keys are per organization because each uses its own key
and quota: one organization's exhausted quota must not move everyone else off a provider.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from app.observability.metrics import PROVIDER_BREAKER_OPENS


@dataclass(slots=True)
class _Breaker:
    failures: int = 0
    opened_at: float | None = None


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

    def allows(self, provider: str, scope: str) -> bool:
        """Closed, or open long enough that one more try is due."""
        with self._lock:
            breaker = self._breakers.get((provider, scope))
            if breaker is None or breaker.opened_at is None:
                return True
            return self._clock() - breaker.opened_at >= self._cooldown_s

    def is_open(self, provider: str, scope: str) -> bool:
        return not self.allows(provider, scope)

    def record_success(self, provider: str, scope: str) -> None:
        with self._lock:
            self._breakers.pop((provider, scope), None)

    def record_failure(self, provider: str, scope: str) -> None:
        with self._lock:
            breaker = self._breakers.setdefault((provider, scope), _Breaker())
            breaker.failures += 1
            if breaker.failures >= self._threshold:
                if breaker.opened_at is None:
                    PROVIDER_BREAKER_OPENS.labels(provider=provider).inc()
                breaker.opened_at = self._clock()  # a failed half-open try re-opens it
