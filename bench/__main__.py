"""`python -m bench`: run the benchmarks and write `bench/RESULTS.md`.

Sections: scale with instant providers and the real VAD (calls stepped up until frames run late),
barge-in latency, engine overhead at 100 calls, and voice-to-voice on the offline stack.
Bounded: every step has a fixed talk time, and the scale section stops past its time budget.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.machine import this_machine
from bench.offline import OfflineResult, run_offline
from bench.phone_line import Utterance
from bench.report import OVERHEAD_CALLS, Run, render
from bench.scale import Script, StepResult, ramp_seconds, run_step
from bench.utterances import espeak_pcm16, peak_normalized

FULL_STEPS = (10, 25, 50, 100, 150, 200, 250, 300)
QUICK_STEPS = (5, 20)
# Both are one unbroken run of speech for Silero (no pause near the VAD's 160 ms pause window),
# so each is exactly one user turn: "Wait, one more thing." pauses 240 ms after "Wait" and
# would end a turn (and start a new reply) in the middle of the barge-in.
QUESTION = "What are your opening hours?"
INTERRUPTION = "Hold on a second"
SCALE_BUDGET_S = 9 * 60


async def _scale(
    steps: tuple[int, ...], talk_s: float, log: list[str], workers: int = 1
) -> list[StepResult]:
    script = Script(
        question=Utterance.from_pcm16(peak_normalized(espeak_pcm16(QUESTION))),
        interruption=Utterance.from_pcm16(peak_normalized(espeak_pcm16(INTERRUPTION))),
        talk_s=talk_s,
    )
    results: list[StepResult] = []
    started = time.monotonic()
    for calls in steps:
        if time.monotonic() - started > SCALE_BUDGET_S:
            _say(f"scale: time budget spent, not running {calls} calls", log)
            break
        _say(f"scale: {calls} concurrent calls for {talk_s:.0f} s each ...", log)
        step = await run_step(calls, script, ramp_seconds(calls), workers)
        results.append(step)
        _say(
            f"  lateness p99 {step.lateness.p99:.1f} ms, response p50 {step.response.p50:.0f} ms, "
            f"server CPU {100 * step.server_cpu_s / step.wall_s:.0f}%, "
            f"held={'yes' if step.held else 'no'}",
            log,
        )
        # Past the engine-overhead point, a step that slipped ends the climb.
        if not step.held and calls >= OVERHEAD_CALLS:
            break
    return results


def _say(line: str, log: list[str]) -> None:
    log.append(line)
    print(line, flush=True)


async def _main(args: argparse.Namespace) -> int:
    started_wall = time.monotonic()
    started = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    machine = this_machine()
    log: list[str] = []
    _say(f"machine: {machine.describe()}", log)
    steps: list[StepResult] = []
    if not args.skip_scale:
        chosen = (
            tuple(int(n) for n in args.steps.split(","))
            if args.steps
            else (QUICK_STEPS if args.quick else FULL_STEPS)
        )
        steps = await _scale(chosen, 12.0 if args.quick else 30.0, log, args.workers)
    offline: OfflineResult | None = None
    if not args.skip_offline:
        _say("offline stack: voice-to-voice ...", log)
        offline = await (run_offline(1, 2) if args.quick else run_offline(4, 6))
        if offline.unavailable:
            _say(f"  not measured: {offline.unavailable}", log)
        else:
            _say(f"  voice-to-voice p50 {offline.response.p50:.0f} ms", log)
    command = "python -m bench" + (" " + " ".join(sys.argv[1:]) if sys.argv[1:] else "")
    run = Run(
        started=started,
        command=command,
        wall_s=time.monotonic() - started_wall,
        machine=machine,
        quick=args.quick,
        question_s=len(espeak_pcm16(QUESTION)) / 32000,
        interruption_s=len(espeak_pcm16(INTERRUPTION)) / 32000,
    )
    args.output.write_text(render(run, steps, offline))
    _say(f"wrote {args.output} in {run.wall_s / 60:.1f} min", log)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a short smoke run (~1 minute)")
    parser.add_argument("--steps", help="comma-separated call counts, e.g. 10,50")
    parser.add_argument("--skip-scale", action="store_true")
    parser.add_argument("--skip-offline", action="store_true")
    parser.add_argument(
        "--workers",
        type=int,
        default=os.cpu_count() or 1,
        help="server processes in the scale section (default: one per core, as VELOX_WORKERS)",
    )
    parser.add_argument(
        "--output", type=Path, help="default bench/RESULTS.md (quick: RESULTS-quick.md)"
    )
    args = parser.parse_args()
    if args.output is None:
        name = "RESULTS-quick.md" if args.quick else "RESULTS.md"
        args.output = Path(__file__).resolve().parent / name
    try:
        import uvloop
    except ImportError:
        return asyncio.run(_main(args))
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(_main(args))


if __name__ == "__main__":
    sys.exit(main())
