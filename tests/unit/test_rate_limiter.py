"""The limiter's wiring: rates parsed and checked, refusals with when to come back, a store that
does not answer letting requests through (counted)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from app.limits.rates import RateLimits, parse_rate, rate_limits_for, storage_for
from app.observability.metrics import RATE_LIMIT_ERRORS, RATE_LIMITED
from app.settings import Settings

pytestmark = pytest.mark.unit


def memory_limits(**rates: str) -> RateLimits:
    return RateLimits(storage_for(""), rates)


def test_a_key_gets_its_rate_then_refusals_that_say_when_to_come_back() -> None:
    limits = memory_limits(api_key="3/minute")
    refused_before = RATE_LIMITED.labels(kind="api_key")._value.get()
    assert [limits.hit("api_key", "org-1:key-a") for _ in range(3)] == [None, None, None]
    refusal = limits.hit("api_key", "org-1:key-a")
    assert refusal is not None
    assert refusal.kind == "api_key"
    assert refusal.limit == "3/minute"
    assert 1 <= refusal.retry_after_s <= 60
    assert "3/minute" in refusal.message
    assert RATE_LIMITED.labels(kind="api_key")._value.get() == refused_before + 1


def test_keys_and_kinds_are_counted_apart() -> None:
    limits = memory_limits(api_key="2/minute", organization="2/minute")
    for _ in range(2):
        assert limits.hit("api_key", "org-1:key-a") is None
    assert limits.hit("api_key", "org-1:key-a") is not None
    assert limits.hit("api_key", "org-1:key-b") is None  # another key of the same organization
    assert limits.hit("organization", "org-1:key-a") is None  # another kind, same key text


def test_a_short_window_comes_back_after_it() -> None:
    limits = memory_limits(conversations="2/second")
    assert limits.hit("conversations", "org") is None
    assert limits.hit("conversations", "org") is None
    refusal = limits.hit("conversations", "org")
    assert refusal is not None
    assert refusal.retry_after_s == 1


def test_a_store_that_does_not_answer_lets_requests_through_and_is_counted() -> None:
    limits = RateLimits(storage_for("redis://127.0.0.1:1/0"), {"organization": "1/minute"})
    errors_before = RATE_LIMIT_ERRORS._value.get()
    assert limits.hit("organization", "org") is None
    assert limits.hit("organization", "org") is None
    assert RATE_LIMIT_ERRORS._value.get() == errors_before + 2


def test_the_service_rates_come_from_the_settings() -> None:
    limits = rate_limits_for(Settings(rate_limit_new_calls="1 per hour"))
    assert limits.hit("new_calls", "org") is None
    refusal = limits.hit("new_calls", "org")
    assert refusal is not None
    assert refusal.limit == "1 per hour"
    # The sliding window's estimate of when a call may come: where the clock stands in the
    # limiter's hour decides it (27 s once, at 22:59:33), so only its range is checked.
    assert 1 <= refusal.retry_after_s <= 3600


@pytest.mark.parametrize("text", ["lots", "10/fortnight", "", "-3/second"])
def test_a_rate_that_is_no_rate_is_refused_when_the_service_starts(text: str) -> None:
    with pytest.raises(ValueError, match="not a rate"):
        parse_rate(text)
    with pytest.raises(ValidationError, match="rate_limit_api_key"):
        Settings(rate_limit_api_key=text)
