"""When a lead is called again after an attempt, from the campaign's per-outcome retry policy."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from campaigns.outcomes import Outcome

DEFAULT_MAX_TOTAL_ATTEMPTS = 6


class InvalidRetryPolicyError(ValueError):
    """A retry policy that cannot be applied as written."""


@dataclass(frozen=True, slots=True)
class RetryRule:
    """Retry after `delay`, as long as fewer than `max_attempts` attempts ended this way."""

    delay: timedelta
    max_attempts: int

    def __post_init__(self) -> None:
        if self.delay < timedelta(0):
            raise InvalidRetryPolicyError("a retry delay cannot be negative")
        if self.max_attempts < 1:
            raise InvalidRetryPolicyError("max attempts must be at least 1 (1 means never retry)")


def _default_rules() -> dict[Outcome, RetryRule]:
    return {
        Outcome.NO_ANSWER: RetryRule(timedelta(hours=2), 3),
        Outcome.BUSY: RetryRule(timedelta(minutes=15), 3),
        Outcome.VOICEMAIL: RetryRule(timedelta(days=1), 2),
        Outcome.ANSWERED_BY_MACHINE: RetryRule(timedelta(hours=4), 3),
        Outcome.FAILED: RetryRule(timedelta(minutes=30), 2),
        Outcome.CANCELED: RetryRule(timedelta(minutes=5), 3),
        Outcome.CALL_BACK: RetryRule(timedelta(days=1), 2),
    }


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Per-outcome retry rules; an outcome without a rule is final.

    `max_total_attempts` caps a lead whose attempts end in a mix of retryable outcomes
    (busy, then no answer, then voicemail...), which per-outcome counts alone would not bound.
    """

    rules: Mapping[Outcome, RetryRule] = field(default_factory=_default_rules)
    max_total_attempts: int = DEFAULT_MAX_TOTAL_ATTEMPTS

    def __post_init__(self) -> None:
        if Outcome.DO_NOT_CALL in self.rules:
            raise InvalidRetryPolicyError(
                "do_not_call is always final: the lead asked not to be called again"
            )
        if self.max_total_attempts < 1:
            raise InvalidRetryPolicyError("max total attempts must be at least 1")


@dataclass(frozen=True, slots=True)
class RetryDecision:
    """When to call the lead again (None: the lead is finished) and why."""

    retry_at: datetime | None
    reason: str
    add_to_do_not_call: bool = False

    @property
    def is_final(self) -> bool:
        """Whether the lead will not be called again in this campaign."""
        return self.retry_at is None


def next_attempt(
    history: Sequence[Outcome],
    outcome: Outcome,
    now: datetime,
    policy: RetryPolicy,
    *,
    call_back_at: datetime | None = None,
) -> RetryDecision:
    """Decide the lead's next attempt after an attempt that just ended with `outcome`.

    `history` holds the outcomes of the lead's earlier attempts, oldest first, without this
    one. A call-back the lead asked for at `call_back_at` is honoured instead of the rule's
    delay. The returned time is when the retry is due; the calling window may push it later.
    """
    if outcome.adds_to_do_not_call:
        return RetryDecision(None, "the lead asked not to be called again", True)
    rule = policy.rules.get(outcome)
    if rule is None:
        return RetryDecision(None, f"{outcome} is final")
    attempts = len(history) + 1
    ended_this_way = sum(1 for earlier in history if earlier is outcome) + 1
    if ended_this_way >= rule.max_attempts:
        return RetryDecision(
            None, f"{outcome} on {ended_this_way} of {rule.max_attempts} allowed attempts"
        )
    if attempts >= policy.max_total_attempts:
        return RetryDecision(None, f"{attempts} attempts made, the most the campaign allows")
    retry_at = now + rule.delay
    if outcome is Outcome.CALL_BACK and call_back_at is not None:
        retry_at = max(now, call_back_at)
    return RetryDecision(retry_at, f"{outcome}: retry {ended_this_way + 1} of {rule.max_attempts}")
