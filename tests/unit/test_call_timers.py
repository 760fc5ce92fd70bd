import pytest

from app.engine.timers import CallTimers, TimerAction, TimerSettings

pytestmark = pytest.mark.unit

SETTINGS = TimerSettings(reprompt_after_s=5, hang_up_after_s=12, max_duration_s=60)


def test_a_silent_caller_is_reprompted_every_window_then_hung_up_on() -> None:
    timers = CallTimers(SETTINGS, now=0)
    assert timers.due(4.9, busy=False) is None
    assert timers.due(5.0, busy=False) is TimerAction.REPROMPT
    timers.due(6.0, busy=True)  # the agent speaks the re-prompt
    assert timers.due(10.0, busy=False) is None
    assert timers.due(11.0, busy=False) is TimerAction.REPROMPT
    assert timers.due(12.0, busy=False) is TimerAction.SILENCE_TIMEOUT


def test_the_caller_speaking_resets_the_hang_up_clock() -> None:
    timers = CallTimers(SETTINGS, now=0)
    timers.caller_active(10.0)
    assert timers.due(20.0, busy=False) is TimerAction.REPROMPT
    assert timers.due(21.9, busy=False) is None
    assert timers.due(22.0, busy=False) is TimerAction.SILENCE_TIMEOUT


def test_nothing_is_due_while_someone_is_talking_except_the_maximum_duration() -> None:
    timers = CallTimers(SETTINGS, now=0)
    assert timers.due(30.0, busy=True) is None
    assert timers.due(60.0, busy=True) is TimerAction.MAX_DURATION


def test_non_positive_windows_turn_the_rules_off() -> None:
    timers = CallTimers(TimerSettings(-1, -1, 600), now=0)
    assert timers.due(500.0, busy=False) is None
