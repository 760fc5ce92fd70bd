"""Rates per tenant with the `limits` library: a sliding-window counter per (kind, key), kept in
Redis when `VELOX_REDIS_URL` is set (shared by every node and process) and in this process's
memory otherwise.

A refusal says when to try again (`Retry-After`, whole seconds, at least 1) and is counted by
kind. A storage that cannot be reached lets the request through (logged and counted): a limiter
outage must not become an API outage.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass

from limits import RateLimitItem, parse
from limits.storage import MemoryStorage, RedisStorage, Storage
from limits.strategies import SlidingWindowCounterRateLimiter

from app.observability.metrics import RATE_LIMIT_ERRORS, RATE_LIMITED
from app.settings import Settings

log = logging.getLogger(__name__)

KEY_PREFIX = "velox-limits"


@dataclass(frozen=True, slots=True)
class Refusal:
    """A request over its limit: which limit, and seconds until it may try again."""

    kind: str
    limit: str
    retry_after_s: int

    @property
    def message(self) -> str:
        return (
            f"Too many requests: the {self.kind.replace('_', ' ')} limit is {self.limit}; "
            f"try again in {self.retry_after_s} s."
        )


def parse_rate(text: str) -> RateLimitItem:
    """`"600/minute"`, `"10 per second"`: ValueError naming the text when it is not a rate."""
    try:
        return parse(text)
    except ValueError as error:
        raise ValueError(f"{text!r} is not a rate such as '600/minute': {error}") from None


def storage_for(redis_url: str) -> Storage:
    """Redis (redis-py's client) when a URL is given, else this process's memory."""
    if not redis_url:
        return MemoryStorage()
    return RedisStorage(redis_url, key_prefix=KEY_PREFIX, socket_timeout=0.5)


class RateLimits:
    """Named rates (`kind` → rate) applied to keys (an organization, an API key, a number)."""

    def __init__(self, storage: Storage, rates: dict[str, str]) -> None:
        self.storage = storage
        self._strategy = SlidingWindowCounterRateLimiter(storage)
        self._rates = {kind: parse_rate(text) for kind, text in rates.items()}
        self._texts = dict(rates)

    def hit(self, kind: str, key: str) -> Refusal | None:
        """Count one request of `kind` for `key` (blocking: a Redis round trip when shared);
        the refusal when it is over the limit."""
        rate = self._rates[kind]
        try:
            if self._strategy.hit(rate, kind, key):
                return None
            reset_at = self._strategy.get_window_stats(rate, kind, key).reset_time
        except Exception as error:  # the limiter's store is down: let the request through
            RATE_LIMIT_ERRORS.inc()
            log.warning("rate limit %s not checked: %s", kind, error)
            return None
        RATE_LIMITED.labels(kind=kind).inc()
        wait = max(1, math.ceil(reset_at - time.time()))
        return Refusal(kind, self._texts[kind], wait)

    def clear(self, kind: str, key: str) -> None:
        self._strategy.clear(self._rates[kind], kind, key)


def rate_limits_for(settings: Settings) -> RateLimits:
    """The service's rates from its settings, in Redis when `redis_url` is set."""
    return RateLimits(
        storage_for(settings.redis_url),
        {
            "organization": settings.rate_limit_organization,
            "api_key": settings.rate_limit_api_key,
            "conversations": settings.rate_limit_conversations,
            "new_calls": settings.rate_limit_new_calls,
        },
    )
