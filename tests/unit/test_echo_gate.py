"""The echo gate learns the line's echo loss while the agent talks, and only echo is gated."""

from __future__ import annotations

import pytest

from app.engine.echo import EchoGate

pytestmark = pytest.mark.unit

AGENT_DBFS = -15.0


def playing(gate: EchoGate, seconds: float) -> None:
    for n in range(int(seconds * 50)):
        gate.agent_frame(AGENT_DBFS, n * 0.02)


def test_before_the_line_is_measured_audio_close_to_the_agent_level_gets_through() -> None:
    gate = EchoGate(suppression_db=12.0, tail_ms=300)
    playing(gate, 1.0)
    assert gate.is_echo(-30.0, 0.5, caller_silent=False)  # 15 dB under the agent: echo
    assert not gate.is_echo(-25.0, 0.5, caller_silent=False)  # 10 dB under: the caller


def test_an_echo_20_db_down_is_measured_and_gated_but_speech_above_it_is_not() -> None:
    gate = EchoGate(suppression_db=12.0, tail_ms=300)
    playing(gate, 2.0)
    for n in range(60):  # the agent talks, the caller does not: the line returns -35 dBFS
        gate.is_echo(AGENT_DBFS - 20, 0.2 + n * 0.02, caller_silent=True)
    assert gate.loss_db() == pytest.approx(20.0)
    assert gate.is_echo(AGENT_DBFS - 20, 1.5, caller_silent=False)
    assert not gate.is_echo(AGENT_DBFS - 12, 1.5, caller_silent=False)


def test_a_line_without_echo_stops_gating_quiet_callers() -> None:
    gate = EchoGate(suppression_db=12.0, tail_ms=300)
    playing(gate, 2.0)
    for n in range(60):  # digital silence while the agent talks: no echo path at all
        gate.is_echo(-120.0, 0.2 + n * 0.02, caller_silent=True)
    assert not gate.is_echo(AGENT_DBFS - 30, 1.5, caller_silent=False)


def test_silence_inside_a_callers_onset_is_left_to_the_vad() -> None:
    """The VAD's verdict on a silent frame inside an onset (it lags) must stand; silence that
    would start speech on its own, as the echo of the agent's pauses would, is gated."""
    gate = EchoGate(suppression_db=12.0, tail_ms=300)
    playing(gate, 1.0)
    assert not gate.is_echo(-120.0, 0.5, caller_silent=False, in_onset=True)  # digital silence
    assert not gate.is_echo(-75.0, 0.5, caller_silent=False, in_onset=True)  # a noise floor
    assert gate.is_echo(-60.0, 0.5, caller_silent=False, in_onset=True)  # could be echo
    assert gate.is_echo(-120.0, 0.5, caller_silent=False)  # no onset: cannot start one


def test_audio_after_the_agent_stopped_is_never_echo() -> None:
    gate = EchoGate(suppression_db=12.0, tail_ms=300)
    playing(gate, 1.0)
    gate.forget_unplayed(0.5)
    assert not gate.is_echo(-60.0, 0.9, caller_silent=False)


def test_a_zero_suppression_turns_the_gate_off() -> None:
    gate = EchoGate(suppression_db=0.0, tail_ms=300)
    playing(gate, 1.0)
    assert not gate.is_echo(-90.0, 0.5, caller_silent=False)


def test_the_gaps_between_the_agents_words_do_not_pass_for_a_weak_echo() -> None:
    """Speech is loud words and quiet gaps; its echo, 100 ms late and 20 dB down, likewise. The
    line is measured on its quiet frames (the VAD hears no voice there), which are far quieter
    than the echo of a word: the loss learnt must still be the echo's 20 dB."""
    gate = EchoGate(suppression_db=12.0, tail_ms=300)

    def agent_level(n: int) -> float:
        return AGENT_DBFS if (n // 10) % 2 == 0 else -60.0  # 200 ms words, 200 ms gaps

    for n in range(150):
        gate.agent_frame(agent_level(n), n * 0.02)
    verdicts: list[tuple[float, bool]] = []
    for n in range(5, 150):
        echo = agent_level(n - 5) - 20  # 100 ms late
        quiet = echo < -50
        verdicts.append((echo, gate.is_echo(echo, n * 0.02, caller_silent=quiet)))
    assert gate.loss_db() == pytest.approx(20.0, abs=1.0)
    assert all(gated for _, gated in verdicts)  # every echo frame, loud or quiet
    assert not gate.is_echo(AGENT_DBFS - 8, 150 * 0.02 - 0.01, caller_silent=False)


def test_the_first_frames_of_a_callers_speech_are_not_taken_for_a_loud_echo() -> None:
    """Before the VAD calls it speech, a caller's onset is loud audio on a "silent" line: had it
    counted as the echo, the gate would shut the caller out a moment later."""
    gate = EchoGate(suppression_db=12.0, tail_ms=300)
    playing(gate, 3.0)
    for n in range(45):  # a line without echo, measured
        gate.is_echo(-120.0, 0.2 + n * 0.02, caller_silent=True)
    for n in range(8):  # the caller begins: loud, not yet voiced to the VAD
        assert not gate.is_echo(AGENT_DBFS - 3, 1.1 + n * 0.02, caller_silent=True)
    gate.caller_speaking(1.28)  # then it is speech
    for n in range(30):  # and after it, the line is measured again only once it is quiet
        gate.is_echo(-120.0, 1.3 + n * 0.02, caller_silent=True)
    assert gate.loss_db() > 60
    assert not gate.is_echo(AGENT_DBFS - 3, 2.0, caller_silent=True)
