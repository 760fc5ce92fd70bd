"""The long fuzz run (`make fuzz`): every fuzz target in `tests/fuzz/` with the `fuzz`
Hypothesis profile (random, many cases per property), then the cases run and findings per
target printed and written as a section of `bench/RESULTS.md`.

`python -m bench.fuzz --examples 20000` runs each property up to that many times (Hypothesis
stops earlier when it has tried all it can); `-k` narrows the targets as pytest's `-k` does. A
failing property is a finding: pytest prints its smallest failing input, Hypothesis keeps it in
`.hypothesis/` so the next run replays it first; fix it and add a regression test to
`tests/fuzz/test_findings.py`.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.machine import load_average
from bench.sections import FUZZ, splice_section

ROOT = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).with_name("RESULTS.md")
FINDINGS = ROOT / "tests" / "fuzz" / "test_findings.py"


def run(examples: int, keyword: str | None) -> tuple[dict[str, dict[str, int]], float, int]:
    """Run the targets; (per-target cases and failing tests, seconds taken, pytest's code)."""
    with tempfile.TemporaryDirectory() as folder:
        report = Path(folder) / "fuzz.json"
        environment = {
            **os.environ,
            "HYPOTHESIS_PROFILE": "fuzz",
            "FUZZ_EXAMPLES": str(examples),
            "FUZZ_REPORT": str(report),
            "PYTHONPATH": str(ROOT),
        }
        command = [sys.executable, "-m", "pytest", "tests/fuzz", "-q", "-p", "no:cacheprovider"]
        command += ["--deselect", "tests/fuzz/test_findings.py"]
        if keyword:
            command += ["-k", keyword]
        started = time.monotonic()
        code = subprocess.run(command, cwd=ROOT, env=environment, check=False).returncode
        seconds = time.monotonic() - started
        targets = json.loads(report.read_text())["targets"] if report.exists() else {}
    return targets, seconds, code


def regression_tests() -> list[str]:
    """The regression tests of findings fixed so far (one per finding)."""
    tree = ast.parse(FINDINGS.read_text())
    return [node.name for node in tree.body if isinstance(node, ast.FunctionDef)]


def render(targets: dict[str, dict[str, int]], seconds: float, examples: int) -> str:
    rows = "\n".join(
        f"| {name} | {figures['cases']} | {figures['failing_tests']} |"
        for name, figures in sorted(targets.items())
    )
    fixed = "\n".join(f"- `{name}`" for name in regression_tests())
    return f"""<!-- {FUZZ}:begin -->
## 15. Fuzzing (`make fuzz`)

Each target's properties (`tests/fuzz/`) run with the `fuzz` Hypothesis profile, up to
{examples} random cases per property, from the corpus in `tests/fuzz/corpus/` and its
mutations. Properties: no exception but the module's documented error; what is accepted
renders back (or round-trips) the same; each input within its time bound. A failing property
is a finding. Total {seconds / 60:.1f} min on a shared 2-core machine (1-minute load
{load_average()[0]:.1f} at the end).

| target | cases run | failing properties (findings open) |
|---|---|---|
{rows}

Findings fixed while the targets were written, each with its regression test in
`tests/fuzz/test_findings.py`:
{fixed}
<!-- {FUZZ}:end -->
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=20000, help="cases per property")
    parser.add_argument("-k", dest="keyword", help="only the targets pytest's -k selects")
    parser.add_argument("--no-write", action="store_true", help="print, leave RESULTS.md alone")
    args = parser.parse_args()
    targets, seconds, code = run(args.examples, args.keyword)
    block = render(targets, seconds, args.examples)
    print(block)
    if not args.no_write and targets:
        existing = RESULTS.read_text() if RESULTS.exists() else ""
        RESULTS.write_text(splice_section(existing, block, FUZZ))
    sys.exit(code)


if __name__ == "__main__":
    main()
