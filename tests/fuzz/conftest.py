"""Prints the cases each fuzz target ran (and writes them to `FUZZ_REPORT` when that is set)."""

from __future__ import annotations

import json
import os
from collections import Counter
from typing import Any

import pytest

from tests.fuzz.harness import CASES, PROFILE

FAILED: Counter[str] = Counter()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: Any) -> Any:
    outcome = yield
    report = outcome.get_result()
    if report.when == "call" and report.failed:
        FAILED[getattr(getattr(item, "module", None), "TARGET", item.name)] += 1


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not CASES:
        return
    terminalreporter.section(f"fuzz targets (profile {PROFILE})")
    for target in sorted(CASES):
        terminalreporter.write_line(
            f"{target}: {CASES[target]} cases, {FAILED[target]} failing tests"
        )
    path = os.environ.get("FUZZ_REPORT")
    if path:
        report = {t: {"cases": CASES[t], "failing_tests": FAILED[t]} for t in sorted(CASES)}
        with open(path, "w") as out:
            json.dump({"profile": PROFILE, "targets": report}, out, indent=2)
