"""The shared decode pool: finals before interims, a worker kept for finals, stale interims
dropped, one interim per call."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import pytest

from app.providers.whisper.pool import DecodePool

pytestmark = pytest.mark.unit

WAIT_S = 5.0


class Gate:
    """Work that blocks until released, recording when it ran and in what order."""

    def __init__(self) -> None:
        self.order: list[str] = []
        self.started: dict[str, threading.Event] = {}
        self._release: dict[str, threading.Event] = {}
        self._lock = threading.Lock()

    def work(self, name: str, *, block: bool = False) -> Callable[[], str]:
        started, release = threading.Event(), threading.Event()
        self.started[name] = started
        self._release[name] = release
        if not block:
            release.set()

        def run() -> str:
            with self._lock:
                self.order.append(name)
            started.set()
            assert release.wait(WAIT_S)
            return name

        return run

    def release(self, name: str) -> None:
        self._release[name].set()


@pytest.fixture
def gate() -> Gate:
    return Gate()


@pytest.fixture
def one_worker() -> Iterator[DecodePool[str]]:
    pool: DecodePool[str] = DecodePool(1, stale_after_s=60.0)
    yield pool
    pool.close()


@pytest.fixture
def two_workers() -> Iterator[DecodePool[str]]:
    pool: DecodePool[str] = DecodePool(2, stale_after_s=60.0)
    yield pool
    pool.close()


def test_queued_finals_run_before_queued_interims(gate: Gate, one_worker: DecodePool[str]) -> None:
    busy = one_worker.submit_final(gate.work("busy", block=True))
    assert gate.started["busy"].wait(WAIT_S)
    interim = one_worker.offer_interim("call-1", gate.work("interim"))
    final = one_worker.submit_final(gate.work("final"))
    gate.release("busy")
    assert (busy.result(WAIT_S), final.result(WAIT_S), interim.result(WAIT_S)) == (
        "busy",
        "final",
        "interim",
    )
    assert gate.order == ["busy", "final", "interim"]


def test_interims_leave_a_worker_free_for_a_final(gate: Gate, two_workers: DecodePool[str]) -> None:
    first = two_workers.offer_interim("call-1", gate.work("interim-1", block=True))
    assert gate.started["interim-1"].wait(WAIT_S)
    second = two_workers.offer_interim("call-2", gate.work("interim-2"))
    final = two_workers.submit_final(gate.work("final"))
    assert final.result(WAIT_S) == "final"  # while interim-1 still holds its worker
    assert not second.done()  # the second interim waits: only one interim runs at a time
    gate.release("interim-1")
    assert (first.result(WAIT_S), second.result(WAIT_S)) == ("interim-1", "interim-2")


def test_a_newer_interim_of_the_same_call_replaces_the_queued_one(
    gate: Gate, one_worker: DecodePool[str]
) -> None:
    one_worker.submit_final(gate.work("busy", block=True))
    assert gate.started["busy"].wait(WAIT_S)
    older = one_worker.offer_interim("call-1", gate.work("older"))
    newer = one_worker.offer_interim("call-1", gate.work("newer"))
    other = one_worker.offer_interim("call-2", gate.work("other"))
    assert older.result(WAIT_S) is None  # resolved at once, never run
    gate.release("busy")
    assert (newer.result(WAIT_S), other.result(WAIT_S)) == ("newer", "other")
    assert "older" not in gate.order


def test_a_withdrawn_interim_never_runs(gate: Gate, one_worker: DecodePool[str]) -> None:
    one_worker.submit_final(gate.work("busy", block=True))
    assert gate.started["busy"].wait(WAIT_S)
    interim = one_worker.offer_interim("call-1", gate.work("interim"))
    one_worker.withdraw_interim("call-1")
    assert interim.result(WAIT_S) is None
    gate.release("busy")
    assert one_worker.submit_final(gate.work("after")).result(WAIT_S) == "after"
    assert gate.order == ["busy", "after"]


def test_an_interim_that_waited_too_long_is_dropped_unrun(gate: Gate) -> None:
    pool: DecodePool[str] = DecodePool(1, stale_after_s=0.05)
    try:
        pool.submit_final(gate.work("busy", block=True))
        assert gate.started["busy"].wait(WAIT_S)
        interim = pool.offer_interim("call-1", gate.work("interim"))
        time.sleep(0.15)
        gate.release("busy")
        assert interim.result(WAIT_S) is None
        assert gate.order == ["busy"]
    finally:
        pool.close()


def test_a_failing_decode_fails_its_own_future_and_the_worker_goes_on(
    one_worker: DecodePool[str],
) -> None:
    def broken() -> str:
        raise RuntimeError("model exploded")

    failed = one_worker.submit_final(broken)
    with pytest.raises(RuntimeError, match="model exploded"):
        failed.result(WAIT_S)
    assert one_worker.submit_final(lambda: "fine").result(WAIT_S) == "fine"


def test_a_pool_needs_a_worker() -> None:
    with pytest.raises(ValueError, match="at least one worker"):
        DecodePool(0)
