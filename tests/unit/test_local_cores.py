"""Local models sharing a process's cores: which replies may wait for a synthesizing voice, and
the wait itself (the model's scheduler decides when: test_generation_scheduler.py)."""

from __future__ import annotations

import threading
import time

import pytest

from app.providers.local_cores import MAX_WAIT_PER_REPLY_S, LocalCores, ReplyPacer

pytestmark = pytest.mark.unit


def pacer_after(pieces: list[str], cores: LocalCores | None = None) -> ReplyPacer:
    pacer = (cores or LocalCores()).reply_pacer()
    for text in pieces:
        pacer.wrote(text)
    return pacer


def test_no_wait_when_no_voice_is_synthesizing() -> None:
    cores = LocalCores()
    assert not cores.voices_busy()
    started = time.perf_counter()
    assert cores.wait_for_voices(1.0) == 0.0
    assert time.perf_counter() - started < 0.05
    assert cores.waits == 0


def test_a_reply_still_writing_its_first_piece_is_urgent() -> None:
    # A comma before the first clause's length does not end the first piece.
    pacer = pacer_after(["Sure,", " we", " open", " at", " nine", " on"])
    assert pacer.urgent
    assert not pacer.patient


def test_a_reply_whose_first_sentence_is_out_may_wait() -> None:
    pacer = pacer_after(["We open at nine.", " On"])
    assert not pacer.urgent
    assert pacer.patient


def test_a_long_first_clause_ends_the_first_piece_at_its_comma() -> None:
    assert pacer_after(["A cleaning costs ninety five dollars,", " and"]).patient


@pytest.mark.parametrize(
    "pieces",
    [
        ["<tool_call>", '\n{"name": "book",', ' "arguments": {"day": "Friday"}}'],
        ["Let me book that.", " <", "tool_call>", '{"name": "x",', " more"],
        ['{"name": "end_call", "arguments": {}}', " more"],
    ],
)
def test_a_tool_call_never_waits(pieces: list[str]) -> None:
    assert not pacer_after(pieces).patient


def test_a_reply_may_wait_only_within_its_budget() -> None:
    pacer = pacer_after(["Yes.", " We"])
    pacer.waited(MAX_WAIT_PER_REPLY_S * 0.6)
    assert pacer.patient
    pacer.waited(MAX_WAIT_PER_REPLY_S * 0.6)
    assert not pacer.patient
    assert pacer.budget_left_s < 0


def test_a_wait_is_bounded_while_a_voice_synthesizes() -> None:
    cores = LocalCores()
    with cores.synthesizing():
        assert cores.voices_busy()
        waited = cores.wait_for_voices(0.05)
    assert 0.045 <= waited < 1.0
    assert cores.waits == 1
    assert not cores.voices_busy()


def test_the_wait_ends_when_the_voice_is_done() -> None:
    cores = LocalCores()
    began, done = threading.Event(), threading.Event()

    def voice() -> None:
        with cores.synthesizing():
            began.set()
            done.wait()
            time.sleep(0.03)

    thread = threading.Thread(target=voice)
    thread.start()
    assert began.wait(5.0)
    done.set()
    waited = cores.wait_for_voices(5.0)
    thread.join()
    assert 0.02 < waited < 2.0  # woken by the voice, not by the 5 s limit
