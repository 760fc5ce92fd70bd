from datetime import UTC, datetime, timedelta

import pytest

from campaigns.pacing import InvalidPaceError, Pace, PaceLimit, PacingDecision, pace_attempts

pytestmark = pytest.mark.unit

NOW = datetime(2025, 6, 2, 14, 0, tzinfo=UTC)


def seconds_ago(*seconds: int) -> list[datetime]:
    return [NOW - timedelta(seconds=s) for s in seconds]


def test_idle_campaign_starts_up_to_the_concurrency_limit() -> None:
    decision = pace_attempts(
        Pace(max_concurrent_calls=5, calls_per_minute=30),
        calls_in_progress=0,
        recent_starts=[],
        now=NOW,
    )
    assert decision == PacingDecision(5, PaceLimit.CONCURRENCY, None)


def test_calls_in_progress_use_up_concurrency() -> None:
    decision = pace_attempts(
        Pace(5, 30), calls_in_progress=3, recent_starts=seconds_ago(10, 20, 30), now=NOW
    )
    assert decision.may_start == 2


def test_full_concurrency_waits_for_a_call_to_end() -> None:
    decision = pace_attempts(Pace(2, 30), calls_in_progress=2, recent_starts=[], now=NOW)
    assert decision == PacingDecision(0, PaceLimit.CONCURRENCY, None)


def test_rate_limit_caps_starts_in_the_last_sixty_seconds() -> None:
    decision = pace_attempts(
        Pace(10, 3), calls_in_progress=1, recent_starts=seconds_ago(50, 20), now=NOW
    )
    assert decision.may_start == 1
    assert decision.limited_by is PaceLimit.RATE


def test_rate_limited_slot_opens_when_the_oldest_start_leaves_the_window() -> None:
    decision = pace_attempts(
        Pace(10, 3), calls_in_progress=3, recent_starts=seconds_ago(50, 20, 5), now=NOW
    )
    assert decision == PacingDecision(0, PaceLimit.RATE, NOW + timedelta(seconds=10))


def test_next_slot_accounts_for_the_attempts_started_now() -> None:
    decision = pace_attempts(Pace(10, 3), calls_in_progress=0, recent_starts=[], now=NOW)
    assert decision == PacingDecision(3, PaceLimit.RATE, NOW + timedelta(seconds=60))


def test_starts_older_than_sixty_seconds_do_not_count() -> None:
    decision = pace_attempts(
        Pace(10, 2), calls_in_progress=0, recent_starts=seconds_ago(60, 61, 3600), now=NOW
    )
    assert decision.may_start == 2


def test_more_starts_than_the_rate_waits_for_enough_to_expire() -> None:
    # The rate was lowered mid-campaign: four starts in the window, two allowed.
    decision = pace_attempts(
        Pace(10, 2), calls_in_progress=0, recent_starts=seconds_ago(40, 30, 20, 10), now=NOW
    )
    assert decision == PacingDecision(0, PaceLimit.RATE, NOW + timedelta(seconds=40))


@pytest.mark.parametrize(("concurrent", "per_minute"), [(0, 10), (5, 0)])
def test_a_pace_that_never_dials_is_rejected(concurrent: int, per_minute: int) -> None:
    with pytest.raises(InvalidPaceError):
        Pace(concurrent, per_minute)
