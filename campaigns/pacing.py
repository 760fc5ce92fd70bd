"""How many calls a campaign may start now: at most N at once and M per sliding minute.

The rate limit is a sliding 60-second window over dial starts rather than a token bucket: it
is what "M calls per minute" means to a sales manager (never more than M starts in any 60
seconds), and it needs nothing but the recent start times, which the database already holds.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

RATE_WINDOW = timedelta(seconds=60)


class InvalidPaceError(ValueError):
    """A pace that would never let a call start."""


@dataclass(frozen=True, slots=True)
class Pace:
    """A campaign's limits: calls in progress at once, and dial starts per sliding minute."""

    max_concurrent_calls: int
    calls_per_minute: int

    def __post_init__(self) -> None:
        if self.max_concurrent_calls < 1:
            raise InvalidPaceError("max concurrent calls must be at least 1")
        if self.calls_per_minute < 1:
            raise InvalidPaceError("calls per minute must be at least 1")


class PaceLimit(enum.StrEnum):
    """Which limit stops the attempt after the ones allowed now."""

    CONCURRENCY = "concurrency"
    RATE = "rate"


@dataclass(frozen=True, slots=True)
class PacingDecision:
    """Start `may_start` attempts now; the next one waits for `limited_by`.

    `next_slot_at` is when the rate limit lets one more attempt start; it is None when the
    concurrency limit is what blocks, because a slot then opens when a call ends.
    """

    may_start: int
    limited_by: PaceLimit
    next_slot_at: datetime | None


def pace_attempts(
    pace: Pace, *, calls_in_progress: int, recent_starts: Iterable[datetime], now: datetime
) -> PacingDecision:
    """Decide how many attempts may start at `now` given the calls running and recent starts.

    `recent_starts` may contain any past start times; those older than 60 s are ignored, so
    the caller can pass the last `calls_per_minute` starts without filtering.
    """
    window_start = now - RATE_WINDOW
    starts = sorted(start for start in recent_starts if window_start < start <= now)
    concurrency_room = max(0, pace.max_concurrent_calls - calls_in_progress)
    rate_room = max(0, pace.calls_per_minute - len(starts))
    may_start = min(concurrency_room, rate_room)
    if calls_in_progress + may_start >= pace.max_concurrent_calls:
        return PacingDecision(may_start, PaceLimit.CONCURRENCY, None)
    # The attempts started now join the window; the next slot opens when enough of the window
    # has aged out to leave room for one more.
    window = starts + [now] * may_start
    oldest_to_expire = window[len(window) - pace.calls_per_minute]
    return PacingDecision(may_start, PaceLimit.RATE, oldest_to_expire + RATE_WINDOW)
