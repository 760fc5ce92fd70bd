from datetime import UTC, datetime, timedelta

import pytest

from campaigns.outcomes import Outcome
from campaigns.retries import InvalidRetryPolicyError, RetryPolicy, RetryRule, next_attempt

pytestmark = pytest.mark.unit

NOW = datetime(2025, 6, 2, 14, 0, tzinfo=UTC)
POLICY = RetryPolicy(
    {
        Outcome.NO_ANSWER: RetryRule(timedelta(hours=2), 3),
        Outcome.BUSY: RetryRule(timedelta(minutes=10), 3),
        Outcome.VOICEMAIL: RetryRule(timedelta(days=1), 2),
        Outcome.CALL_BACK: RetryRule(timedelta(days=1), 2),
    },
    max_total_attempts=4,
)


def test_retryable_outcome_is_retried_after_its_delay() -> None:
    decision = next_attempt([], Outcome.NO_ANSWER, NOW, POLICY)
    assert decision.retry_at == NOW + timedelta(hours=2)
    assert not decision.is_final


def test_outcome_is_final_once_it_used_its_max_attempts() -> None:
    history = [Outcome.NO_ANSWER, Outcome.NO_ANSWER]
    decision = next_attempt(history, Outcome.NO_ANSWER, NOW, POLICY)
    assert decision.is_final
    assert "3 of 3" in decision.reason


def test_attempts_of_other_outcomes_do_not_use_up_this_outcomes_attempts() -> None:
    history = [Outcome.BUSY, Outcome.NO_ANSWER]
    assert next_attempt(history, Outcome.BUSY, NOW, POLICY).retry_at == NOW + timedelta(minutes=10)


def test_mixed_outcomes_stop_at_the_campaigns_total_attempts() -> None:
    history = [Outcome.BUSY, Outcome.NO_ANSWER, Outcome.BUSY]
    decision = next_attempt(history, Outcome.NO_ANSWER, NOW, POLICY)
    assert decision.is_final
    assert "4 attempts" in decision.reason


def test_outcome_without_a_rule_is_final() -> None:
    decision = next_attempt([], Outcome.MEETING_BOOKED, NOW, POLICY)
    assert decision.is_final
    assert not decision.add_to_do_not_call


def test_do_not_call_is_final_and_adds_the_number_to_the_list() -> None:
    decision = next_attempt([Outcome.NO_ANSWER], Outcome.DO_NOT_CALL, NOW, POLICY)
    assert decision.is_final
    assert decision.add_to_do_not_call


def test_call_back_honours_the_time_the_lead_asked_for() -> None:
    asked_for = NOW + timedelta(hours=5)
    decision = next_attempt([], Outcome.CALL_BACK, NOW, POLICY, call_back_at=asked_for)
    assert decision.retry_at == asked_for


def test_call_back_asked_for_in_the_past_is_due_now() -> None:
    decision = next_attempt(
        [], Outcome.CALL_BACK, NOW, POLICY, call_back_at=NOW - timedelta(hours=1)
    )
    assert decision.retry_at == NOW


def test_default_policy_retries_no_answer_busy_and_voicemail() -> None:
    policy = RetryPolicy()
    for outcome in (Outcome.NO_ANSWER, Outcome.BUSY, Outcome.VOICEMAIL):
        assert not next_attempt([], outcome, NOW, policy).is_final


def test_a_policy_retrying_do_not_call_is_rejected() -> None:
    with pytest.raises(InvalidRetryPolicyError, match="always final"):
        RetryPolicy({Outcome.DO_NOT_CALL: RetryRule(timedelta(hours=1), 2)})


@pytest.mark.parametrize(("delay", "attempts"), [(timedelta(minutes=-1), 2), (timedelta(0), 0)])
def test_a_rule_with_a_negative_delay_or_no_attempts_is_rejected(
    delay: timedelta, attempts: int
) -> None:
    with pytest.raises(InvalidRetryPolicyError):
        RetryRule(delay, attempts)
