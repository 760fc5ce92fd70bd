"""Local models sharing a process's cores: a reply whose first piece is out waits for voices."""

from __future__ import annotations

import threading
import time

from app.providers.local_cores import MAX_WAIT_PER_REPLY_S, MAX_WAIT_S, LocalCores


def write(pacer_text: list[str], cores: LocalCores) -> float:
    """Seconds a reply written as these pieces spent in `wrote`."""
    pacer = cores.reply_pacer()
    started = time.perf_counter()
    for text in pacer_text:
        pacer.wrote(text)
    return time.perf_counter() - started


def test_a_reply_does_not_wait_when_no_voice_is_synthesizing() -> None:
    cores = LocalCores()
    assert write(["Sure.", " We", " open", " at", " nine."], cores) < 0.05
    assert cores.waits == 0


def test_a_reply_still_writing_its_first_piece_never_waits() -> None:
    cores = LocalCores()
    with cores.synthesizing():
        # A comma before the first clause's length does not end the first piece.
        assert write(["Sure,", " we", " open", " at", " nine", " on"], cores) < 0.05
    assert cores.waits == 0


def test_once_its_first_piece_is_out_a_reply_waits_while_a_voice_synthesizes() -> None:
    cores = LocalCores()
    with cores.synthesizing():
        waited = write(["We open at nine.", " On", " Saturdays"], cores)
    assert cores.waits == 2
    assert waited >= 2 * MAX_WAIT_S * 0.9


def test_a_long_first_clause_ends_the_first_piece_at_its_comma() -> None:
    cores = LocalCores()
    with cores.synthesizing():
        write(["A cleaning costs ninety five dollars,", " and"], cores)
    assert cores.waits == 1


def test_the_wait_ends_when_the_voice_is_done() -> None:
    cores = LocalCores(max_wait_s=5.0)
    began, done = threading.Event(), threading.Event()

    def voice() -> None:
        with cores.synthesizing():
            began.set()
            done.wait()
            time.sleep(0.03)

    thread = threading.Thread(target=voice)
    thread.start()
    assert began.wait(5.0)
    pacer = cores.reply_pacer()
    pacer.wrote("Yes.")
    started = time.perf_counter()
    done.set()
    pacer.wrote(" We")
    waited = time.perf_counter() - started
    thread.join()
    assert 0.02 < waited < 2.0  # woken by the voice, not by the 5 s limit


def test_a_reply_does_not_wait_while_other_work_waits_for_its_thread() -> None:
    cores = LocalCores()
    queue = ["another call's reply"]
    pacer = cores.reply_pacer(lambda: bool(queue))
    with cores.synthesizing():
        pacer.wrote("We open at nine.")
        started = time.perf_counter()
        pacer.wrote(" On")
        assert time.perf_counter() - started < 0.05
        queue.clear()
        pacer.wrote(" Saturdays")
    assert cores.waits == 1


def test_a_tool_call_is_never_held_back() -> None:
    cores = LocalCores()
    with cores.synthesizing():
        opening = ["<tool_call>", '\n{"name": "book",', ' "arguments": {"day": "Friday"}}']
        assert write(opening, cores) < 0.05
        after_words = ["Let me book that.", " <", "tool_call>", '{"name": "x",', " more"]
        assert write(after_words, cores) < 0.05
        assert write(['{"name": "end_call", "arguments": {}}', " more"], cores) < 0.05
    assert cores.waits == 0


def test_a_voice_that_never_rests_costs_a_reply_at_most_its_budget() -> None:
    cores = LocalCores()
    with cores.synthesizing():
        waited = write(["Yes."] + [" word"] * 20, cores)
    assert MAX_WAIT_PER_REPLY_S * 0.9 <= waited <= MAX_WAIT_PER_REPLY_S + 0.1
