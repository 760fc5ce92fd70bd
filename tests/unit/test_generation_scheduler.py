"""The offline model's thread shared by several generations: turns a token each, a reply still
writing its first piece first, the voices first when every reply can wait, contexts reused."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Generator

import pytest

from app.providers.llama.scheduler import GenerationScheduler, Job
from app.providers.local_cores import LocalCores, ReplyPacer

pytestmark = pytest.mark.unit


class Work:
    """A job that writes `pieces`, a step each, noting the order of steps across jobs."""

    def __init__(
        self, name: str, pieces: list[str], log: list[str], *, spoken: bool = True
    ) -> None:
        self.name = name
        self.pieces = pieces
        self.log = log
        self.spoken = spoken
        self.contexts: list[int] = []
        self.errors: list[BaseException] = []
        self.done = threading.Event()

    def job(self, cores: LocalCores, fail_at: int | None = None) -> Job[int]:
        pacer = cores.reply_pacer() if self.spoken else None

        def run(context: int) -> Generator[None, None, None]:
            self.contexts.append(context)
            for index, piece in enumerate(self.pieces):
                if index == fail_at:
                    raise ValueError("the model broke")
                self.log.append(f"{self.name}:{piece.strip()}")
                if pacer is not None:
                    pacer.wrote(piece)
                yield

        return Job(run, self.errors.append, self.done.set, pacer)


def scheduler(
    cores: LocalCores,
    max_contexts: int = 4,
    open_context: Callable[[], int] | None = None,
    shared: list[bool] | None = None,
) -> GenerationScheduler[int]:
    opened = iter(range(1, 100))
    return GenerationScheduler(
        0,
        open_context or (lambda: next(opened)),
        share_cores=lambda context, sharing: (shared if shared is not None else []).append(sharing),
        max_contexts=max_contexts,
        cores=cores,
        name="test",
    )


def submit_together(model: GenerationScheduler[int], jobs: list[Job[int]]) -> None:
    """Submit while the thread is held busy, so that it admits every job at once after."""
    holding, gate = threading.Event(), threading.Event()

    def hold(context: int) -> Generator[None, None, None]:
        holding.set()
        gate.wait(5.0)
        return
        yield

    model.submit(Job(hold, lambda error: None, lambda: None))
    assert holding.wait(5.0)
    for job in jobs:
        model.submit(job)
    gate.set()


def wait_all(*works: Work) -> None:
    for work in works:
        assert work.done.wait(5.0), work.name


def test_the_oldest_reply_writes_its_first_piece_alone_then_replies_take_turns() -> None:
    cores, log = LocalCores(), list[str]()
    a = Work("a", ["Yes.", " one", " two", " three"], log)
    b = Work("b", ["Sure.", " uno", " dos", " tres"], log)
    model = scheduler(cores)
    submit_together(model, [a.job(cores), b.job(cores)])
    wait_all(a, b)
    model.close()
    # A first piece is known at the word after it, as the engine's sentence cutter knows it;
    # while "b" writes its own, "a" (being spoken) gets a step beside each of "b"'s.
    assert log == [
        "a:Yes.", "a:one", "b:Sure.", "a:two", "b:uno", "a:three", "b:dos", "b:tres",
    ]  # fmt: skip
    assert a.contexts != b.contexts  # a context each


def test_a_reply_still_writing_its_first_piece_gets_every_other_step() -> None:
    cores, log = LocalCores(), list[str]()
    talking = Work("talking", ["We open at nine.", " On", " Saturdays", " at", " ten."], log)
    asked = Work("asked", ["Our", " address", " is", " 12 Oak Street.", " Bye"], log)
    model = scheduler(cores)
    submit_together(model, [talking.job(cores), asked.job(cores)])
    wait_all(talking, asked)
    model.close()
    # "talking" is being spoken: it never stalls, but "asked" steps as often as all the others.
    assert log[:7] == [
        "talking:We open at nine.", "talking:On", "asked:Our", "talking:Saturdays",
        "asked:address", "talking:at", "asked:is",
    ]  # fmt: skip


def test_work_beyond_the_contexts_waits_first_come_first_served() -> None:
    cores, log = LocalCores(), list[str]()
    works = [Work(name, ["Yes.", " a", " b"], log) for name in ("p", "q", "r")]
    model = scheduler(cores, max_contexts=2)
    submit_together(model, [work.job(cores) for work in works])
    wait_all(*works)
    model.close()
    assert model.contexts_opened == 2
    # "r" starts once "p" or "q" is done, on the context it gave back.
    first_r = log.index("r:Yes.")
    assert {"p:b", "q:b"} & set(log[:first_r])
    assert works[2].contexts[0] in works[0].contexts + works[1].contexts


def test_when_every_reply_can_wait_a_synthesizing_voice_goes_first() -> None:
    cores, log = LocalCores(max_wait_s=0.05, max_wait_per_reply_s=1.0), list[str]()
    a = Work("a", ["Yes.", " one", " two"], log)
    b = Work("b", ["Sure.", " uno", " dos"], log)
    model = scheduler(cores)
    started = time.perf_counter()
    with cores.synthesizing():
        submit_together(model, [a.job(cores), b.job(cores)])
        wait_all(a, b)
    model.close()
    # The first pieces go at once (known with the word after); before each later round the
    # thread waits for the voice.
    assert cores.waits == 2
    assert time.perf_counter() - started >= 2 * 0.05


def test_no_wait_for_voices_while_a_reply_writes_its_first_piece_or_work_is_queued() -> None:
    cores, log = LocalCores(max_wait_s=1.0), list[str]()
    first = Work("first", ["Hmm", " let", " me", " see", " now"], log)
    unspoken = Work("analysis", ['{"a":', " 1", "}"], log, spoken=False)
    model = scheduler(cores)
    started = time.perf_counter()
    with cores.synthesizing():
        submit_together(model, [first.job(cores), unspoken.job(cores)])
        wait_all(first, unspoken)
    model.close()
    assert cores.waits == 0
    assert time.perf_counter() - started < 0.5


def test_a_step_that_raises_fails_its_job_only_and_frees_its_context() -> None:
    cores, log = LocalCores(), list[str]()
    broken = Work("broken", ["Yes.", " no"], log)
    fine = Work("fine", ["Sure.", " one", " two", " three"], log)
    later = Work("later", ["Okay."], log)
    model = scheduler(cores, max_contexts=2)
    submit_together(model, [broken.job(cores, fail_at=1), fine.job(cores), later.job(cores)])
    wait_all(broken, fine, later)
    model.close()
    assert [str(error) for error in broken.errors] == ["the model broke"]
    assert not fine.errors
    assert not later.errors
    assert "fine:three" in log
    assert "later:Okay." in log
    assert model.contexts_opened == 2  # "later" ran on a context given back


def test_a_context_that_cannot_be_opened_leaves_the_work_waiting_for_one() -> None:
    def no_memory() -> int:
        raise MemoryError("out of memory")

    cores, log = LocalCores(), list[str]()
    a, b = Work("a", ["Yes.", " one"], log), Work("b", ["Sure.", " two"], log)
    model = scheduler(cores, open_context=no_memory)
    submit_together(model, [a.job(cores), b.job(cores)])
    wait_all(a, b)
    model.close()
    assert not a.errors
    assert not b.errors
    assert model.max_contexts == 1
    assert log == ["a:Yes.", "a:one", "b:Sure.", "b:two"]


def test_closing_fails_queued_and_running_work() -> None:
    cores, log = LocalCores(), list[str]()
    queued = Work("queued", ["Sure."], log)
    failures: list[BaseException] = []
    ended = threading.Event()

    def endless(context: int) -> Generator[None, None, None]:
        while True:
            time.sleep(0.001)
            yield

    model = scheduler(cores, max_contexts=1)
    submit_together(model, [Job(endless, failures.append, ended.set), queued.job(cores)])
    time.sleep(0.05)
    model.close()
    wait_all(queued)
    assert ended.wait(5.0)
    assert [str(error) for error in failures + queued.errors] == [
        "the model was closed",
        "the model was closed",
    ]
    with pytest.raises(RuntimeError):
        model.submit(queued.job(cores))


def test_a_step_beside_a_synthesizing_voice_takes_its_share_of_the_cores() -> None:
    cores, log, shared = LocalCores(max_wait_s=0.0), list[str](), list[bool]()
    alone, beside = Work("alone", ["Yes.", " one"], log), Work("beside", ["Sure.", " two"], log)
    model = scheduler(cores, shared=shared)
    model.submit(alone.job(cores))
    wait_all(alone)
    with cores.synthesizing():
        model.submit(beside.job(cores))
        wait_all(beside)
    model.close()
    assert shared == [False] * 3 + [True] * 3  # a step per piece, and the one that ends it


def test_a_voice_shares_the_cores_only_while_the_model_generates() -> None:
    cores = LocalCores()
    assert not cores.shares_cores(voice=True)
    cores.generating = True
    assert cores.shares_cores(voice=True)
    assert not cores.shares_cores(voice=False)
    with cores.synthesizing():
        assert cores.shares_cores(voice=False)


def test_pacer_says_urgent_then_patient_then_spent() -> None:
    cores = LocalCores(max_wait_per_reply_s=0.2)
    pacer: ReplyPacer = cores.reply_pacer()
    assert pacer.urgent
    assert not pacer.patient
    pacer.wrote("Sure, we open")  # a short clause does not end the first piece
    assert pacer.urgent
    pacer.wrote(" at nine.")
    assert pacer.urgent  # a sentence ends with the white space after its stop
    pacer.wrote(" On")
    assert not pacer.urgent
    assert pacer.patient
    pacer.waited(0.2)
    assert not pacer.patient
