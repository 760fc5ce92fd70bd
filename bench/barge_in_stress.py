"""Section 6: the barge-in tests run many times in a row, on a quiet machine and with one core busy.

A caller must always be able to interrupt; a race in that path shows as one failure in many
runs, which one CI run cannot see. This section runs the real-speech call test (Silero, Whisper,
SmolLM2, Piper over the Twilio protocol), the replay of the call that once lost its interruption,
and the conversational-feel cases (interruptions, backchannels, coughs, echo) `runs` times each,
first alone and then beside a process that keeps one core busy, and counts every failure.
Each run is its own pytest process, as CI runs them; the failures' output is kept.
"""

from __future__ import annotations

import multiprocessing
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from bench.sections import STRESS, markers

ROOT = Path(__file__).resolve().parent.parent
TESTS = (
    "tests/models/test_real_speech_call.py",
    "tests/models/test_echo_gate_replay.py",
    "tests/e2e/test_conversational_feel.py",
)
CONDITIONS = ("quiet", "one core busy")


@dataclass
class Condition:
    name: str
    runs: int = 0
    wall_s: float = 0.0
    passed: dict[str, int] = field(default_factory=dict)
    failed: dict[str, int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)  # "run N: test id: first line"

    def record(self, test: str, ok: bool) -> None:
        counts = self.passed if ok else self.failed
        counts[test] = counts.get(test, 0) + 1
        self.passed.setdefault(test, 0)
        self.failed.setdefault(test, 0)


def _burn() -> None:
    while True:
        pass


@contextmanager
def one_core_busy() -> Iterator[None]:
    burner = multiprocessing.Process(target=_burn, daemon=True)
    burner.start()
    try:
        yield
    finally:
        burner.terminate()
        burner.join()


def _run_once(number: int, condition: Condition, say: Callable[[str], None]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        report = Path(folder) / "junit.xml"
        started = time.monotonic()
        command = [sys.executable, "-m", "pytest", *TESTS, "-q", "-p", "no:cacheprovider"]
        completed = subprocess.run(
            [*command, f"--junitxml={report}"],
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
        condition.wall_s += time.monotonic() - started
        condition.runs += 1
        if not report.exists():
            condition.failures.append(f"run {number}: pytest wrote no report: {completed.stdout}")
            return
        for case in ET.parse(report).getroot().iter("testcase"):
            test = f"{case.get('classname', '').rsplit('.', 1)[-1]}::{case.get('name')}"
            problem = case.find("failure")
            if problem is None:
                problem = case.find("error")
            condition.record(test, problem is None)
            if problem is not None:
                first = (problem.get("message") or "").splitlines()[:1]
                condition.failures.append(f"run {number}: {test}: {' '.join(first)[:300]}")
    lost = sum(condition.failed.values())
    say(f"  {condition.name}: run {number} done, {lost} failure(s) so far")


def run_stress(runs: int, say: Callable[[str], None]) -> list[Condition]:
    results = []
    for name in CONDITIONS:
        condition = Condition(name)
        say(f"barge-in stress, {name}: {runs} runs of {', '.join(TESTS)} ...")
        if name == "quiet":
            for number in range(1, runs + 1):
                _run_once(number, condition, say)
        else:
            with one_core_busy():
                for number in range(1, runs + 1):
                    _run_once(number, condition, say)
        results.append(condition)
    return results


def render_stress(
    results: list[Condition], *, started: str, command: str, machine: str, engine: str
) -> str:
    begin, end = markers(STRESS)
    lines = [
        begin,
        "## 6. Barge-in under repetition and load",
        "",
        f"Run {started} with `{command}` on {machine}; {engine}.",
        "",
        "Each run is one pytest process over "
        + ", ".join(f"`{test}`" for test in TESTS)
        + "; the second condition keeps one of the two cores busy with a spinning process.",
        "",
        "| condition | runs | test cases run | failures | minutes |",
        "|---|---|---|---|---|",
    ]
    for condition in results:
        cases = sum(condition.passed.values()) + sum(condition.failed.values())
        lines.append(
            f"| {condition.name} | {condition.runs} | {cases} | {sum(condition.failed.values())}"
            f" | {condition.wall_s / 60:.1f} |"
        )
    lines += ["", "Per test (failures / runs), both conditions:", ""]
    tests = sorted({test for c in results for test in c.passed})
    lines += ["| test | " + " | ".join(c.name for c in results) + " |"]
    lines += ["|---|" + "---|" * len(results)]
    for test in tests:
        cells = [
            f"{c.failed.get(test, 0)} / {c.passed.get(test, 0) + c.failed.get(test, 0)}"
            for c in results
        ]
        lines.append(f"| `{test}` | " + " | ".join(cells) + " |")
    failures = [f for c in results for f in (f"{c.name}, {line}" for line in c.failures)]
    if failures:
        lines += ["", "Failures:", ""] + [f"- {line}" for line in failures]
    lines += [end]
    return "\n".join(lines) + "\n"
