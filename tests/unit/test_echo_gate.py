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
    gate.caller_speaking()  # then it is speech
    for n in range(30):  # and after it, the line is measured again only once it is quiet
        gate.is_echo(-120.0, 1.3 + n * 0.02, caller_silent=True)
    assert gate.loss_db() > 60
    assert not gate.is_echo(AGENT_DBFS - 3, 2.0, caller_silent=True)


# The call that lost its interruption (issue 12): the caller's first 0.3 s of silence reached the
# engine in one burst while the greeting's first frame, digital silence, was playing. Each frame
# measured "silence came back as silence" as a 0 dB echo; those 13 measurements were more than a
# tenth of the ~130 taken by the time the caller cut in, so the strong-echo quantile was 0 dB and
# every frame quieter than the agent plus 6 dB was gated: 115 voiced frames, no speech, no clear.
GREETING_LEAD_IN_FRAMES = 1
GREETING_S = 2.4
BURST_FRAMES = 20


def a_greeting_heard_by_a_silent_caller(gate: EchoGate) -> float:
    """The greeting (digital silence first) plays while the caller's backlog of silence arrives
    all at once, then the rest of it in real time. Returns when the greeting has played out."""
    frames = GREETING_LEAD_IN_FRAMES + int(GREETING_S * 50)
    for n in range(frames):
        gate.agent_frame(-120.0 if n < GREETING_LEAD_IN_FRAMES else AGENT_DBFS, n * 0.02)
    for _ in range(BURST_FRAMES):  # the backlog: same instant, the lead-in playing
        gate.is_echo(-120.0, 0.001, caller_silent=True)
    for n in range(1, frames):
        gate.is_echo(-120.0, n * 0.02, caller_silent=True)
    return frames * 0.02


def voice(level_dbfs: float, frames: int) -> list[float]:
    """A caller's voice: a rising onset, then the sentence at `level_dbfs` with word gaps."""
    onset = [level_dbfs - 45, level_dbfs - 28, level_dbfs - 20, level_dbfs - 12]
    body = [level_dbfs if (n // 12) % 4 else level_dbfs - 25 for n in range(frames)]
    return onset + body


@pytest.mark.parametrize("caller_db", [0.0, -10.0], ids=["at-agent-level", "10-dB-below"])
@pytest.mark.parametrize("cut_in_ms", [100, 200])
def test_a_caller_cutting_in_after_a_burst_at_call_start_is_never_gated(
    caller_db: float, cut_in_ms: int
) -> None:
    gate = EchoGate(suppression_db=12.0, tail_ms=300)
    answer_at = a_greeting_heard_by_a_silent_caller(gate) + 2.0
    for n in range(int(3.0 * 50)):  # the answer, three seconds of it
        gate.agent_frame(AGENT_DBFS, answer_at + n * 0.02)
    now = answer_at
    for _ in range(cut_in_ms // 20):  # the answer starts; the caller is still silent
        gate.is_echo(-120.0, now, caller_silent=True)
        now += 0.02
    levels = voice(AGENT_DBFS + caller_db, 100)
    gated_voice = []
    for n, level in enumerate(levels):
        voiced = n >= 5  # Silero's score lags the onset by about 100 ms
        if gate.is_echo(level, now, caller_silent=not voiced) and voiced:
            gated_voice.append(n)
        now += 0.02
    assert gate.loss_db() >= 6.0
    assert gated_voice == [], (gated_voice, gate.summary())


def test_silence_heard_while_the_agent_is_silent_teaches_nothing() -> None:
    gate = EchoGate(suppression_db=12.0, tail_ms=300)
    for n in range(100):
        gate.agent_frame(-120.0, n * 0.02)
    for n in range(100):
        gate.is_echo(-120.0, n * 0.02, caller_silent=True)
    assert gate.summary()["measurements"] == 0
    assert gate.summary()["loss_source"] == "assumed"


def test_the_callers_onset_is_never_learned_even_when_the_vad_never_calls_it_speech() -> None:
    """The onset frames the VAD has not yet voiced are the caller's: as loud as the agent or
    nearly, they are double talk, and the measurements waiting on probation are thrown away,
    whatever the segmenter (which the gate itself may starve) later decides."""
    gate = EchoGate(suppression_db=12.0, tail_ms=300)
    playing(gate, 6.0)
    for n in range(60):  # a line without echo, measured
        gate.is_echo(-120.0, 0.2 + n * 0.02, caller_silent=True)
    measured = gate.loss_db()
    now = 1.4
    for _ in range(10):  # the caller's voice, never voiced to the VAD, never speech
        for level in (AGENT_DBFS - 40, AGENT_DBFS - 25, AGENT_DBFS - 4, AGENT_DBFS - 1):
            gate.is_echo(level, now, caller_silent=True)
            now += 0.02
    for _ in range(40):
        gate.is_echo(-120.0, now, caller_silent=True)
        now += 0.02
    assert gate.loss_db() >= measured - 1.0


def test_a_learned_loss_stricter_than_the_setting_holds_a_voice_at_most_200_ms() -> None:
    """A line really measured at an 8 dB echo: its echo is held. A voice the learned loss would
    hold for ever is held for the bound, then the agent's own setting decides (with the VAD), and
    the release is reported; the next agent turn starts with the learned loss again."""
    events: list[tuple[str, dict[str, object]]] = []
    gate = EchoGate(suppression_db=12.0, tail_ms=300, report=lambda k, **d: events.append((k, d)))
    playing(gate, 8.0)
    for n in range(60):  # an 8 dB echo, the caller silent
        gate.is_echo(AGENT_DBFS - 8, 0.2 + n * 0.02, caller_silent=True)
    for n in range(40):  # probation passes
        gate.is_echo(AGENT_DBFS - 8, 1.4 + n * 0.02, caller_silent=True)
    assert gate.loss_db() == pytest.approx(8.0)
    held = [gate.is_echo(AGENT_DBFS - 10, 2.2 + n * 0.02, caller_silent=False) for n in range(30)]
    assert held[:10] == [True] * 10  # 200 ms held
    assert held[10:] == [False] * 20  # then the VAD decides
    assert [kind for kind, _ in events] == ["echo_gate", "echo_gate_released"]
    first = events[0][1]
    assert (first["loss_db"], first["loss_source"]) == (8.0, "measured")
    assert (first["caller_dbfs"], first["agent_dbfs"]) == (AGENT_DBFS - 10, AGENT_DBFS)
    assert gate.summary()["releases"] == 1
