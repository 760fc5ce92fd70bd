"""Circuit breakers as designed: open after failures in a row, one half-open try after the
cooldown, closed by that try's success only, opened again by its failure."""

from __future__ import annotations

import pytest

from app.providers.fallback.breakers import Admission, CircuitBreakers
from app.providers.fallback.chain import Chain
from tests.fakes.providers import ScriptedLanguageModel

pytestmark = pytest.mark.unit


def opened(now: list[float]) -> CircuitBreakers:
    breakers = CircuitBreakers(failure_threshold=2, cooldown_s=10, clock=lambda: now[0])
    breakers.record_failure("groq", "org")
    breakers.record_failure("groq", "org")
    return breakers


def test_after_the_cooldown_exactly_one_call_gets_the_half_open_try() -> None:
    now = [0.0]
    breakers = opened(now)
    assert breakers.admit("groq", "org") is Admission.REFUSED
    now[0] = 10.0
    assert breakers.admit("groq", "org") is Admission.TRIAL
    assert breakers.admit("groq", "org") is Admission.REFUSED  # the others wait for its outcome
    breakers.record_success("groq", "org", trial=True)
    assert breakers.admit("groq", "org") is Admission.CLOSED
    assert [what for *_, what in breakers.transitions] == ["opened", "closed"]


def test_a_success_of_a_call_already_on_the_provider_does_not_close_an_open_breaker() -> None:
    now = [0.0]
    breakers = opened(now)
    assert not breakers.record_success("groq", "org")
    assert breakers.is_open("groq", "org")
    assert not breakers.record_failure("groq", "org")  # nor does its failure re-open it
    assert [what for *_, what in breakers.transitions] == ["opened"]


def test_a_failed_try_opens_the_breaker_for_another_cooldown() -> None:
    now = [0.0]
    breakers = opened(now)
    now[0] = 10.0
    assert breakers.admit("groq", "org") is Admission.TRIAL
    assert breakers.record_failure("groq", "org", trial=True)
    now[0] = 19.0
    assert breakers.admit("groq", "org") is Admission.REFUSED
    now[0] = 20.0
    assert breakers.admit("groq", "org") is Admission.TRIAL
    assert [(t, what) for t, *_, what in breakers.transitions] == [
        (0.0, "opened"),
        (10.0, "opened"),
    ]


def test_a_try_never_decided_lapses_after_a_cooldown() -> None:
    now = [0.0]
    breakers = opened(now)
    now[0] = 10.0
    assert breakers.admit("groq", "org") is Admission.TRIAL  # its call ended without a word
    now[0] = 20.0
    assert breakers.admit("groq", "org") is Admission.TRIAL


def test_building_a_calls_chain_does_not_spend_the_try_using_the_provider_does() -> None:
    now = [0.0]
    breakers = opened(now)
    now[0] = 10.0
    members = [ScriptedLanguageModel(lambda m: "hi", name=n) for n in ("groq", "smollm2")]
    warm_up = Chain("llm", members, breakers, "org")  # built to warm a greeting, never used
    call = Chain("llm", members, breakers, "org")
    assert (warm_up.name, call.name) == ("groq", "groq")
    assert next(call.candidates()) == 0  # the call that asks first takes the try
    assert next(warm_up.candidates()) == 1  # and the other goes to the fallback meanwhile
    call.succeeded(0)
    assert not breakers.is_open("groq", "org")
