"""`python -m bench`: run the benchmarks and write `bench/RESULTS.md`.

Sections: scale with instant providers and the real VAD (calls stepped up until frames run late),
barge-in latency, engine overhead at 100 calls, voice-to-voice on the offline stack, and
conversational feel (backchannels, coughs, echo, hesitations, interruptions).
Bounded: every step has a fixed talk time, and the scale section stops past its time budget.
SIP trunk calls (section 16, `bench/sip_load.py`) run after the scale section.
`--only feel` runs the feel section alone and replaces it in an existing RESULTS.md;
`--only dialer` does the same for the campaign dialer's throughput (PostgreSQL, Redis, real
workers), `--only stress` for the barge-in tests run many times, quiet and with one core
busy, and `--only queries` for the call list, search, analytics and CSV export over a million
calls on PostgreSQL (a full run leaves those three sections as they were), `--only sip` for
the SIP section, `--only offline` for voice-to-voice on the offline stack (section 3).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from bench import sip_load
from bench.barge_in_stress import render_stress, run_stress
from bench.call_queries import postgres_missing, run_queries
from bench.call_queries_report import render_queries
from bench.dialer import run_dialer
from bench.dialer_report import code_version, render_dialer
from bench.dialer_setup import services_missing
from bench.feel import (
    OFFLINE_CROWD,
    SCRIPTED_CONCURRENCY,
    FeelRun,
    crowd_plan,
    offline_plan,
    run_feel,
    scripted_plan,
)
from bench.feel_report import engine_version, previous_block, render_feel, splice
from bench.machine import this_machine
from bench.offline import OfflineResult, run_offline
from bench.offline_report import offline_only
from bench.options import parse_options
from bench.phone_line import Utterance
from bench.report import OVERHEAD_CALLS, Run, render
from bench.scale import Script, StepResult, ramp_seconds, run_step
from bench.sections import (
    DIALER,
    FEEL,
    OFFLINE_VOICE,
    QUERIES,
    SECTIONS,
    SIP,
    SOAK,
    STRESS,
    section_of,
    splice_section,
)
from bench.sip_report import SipRun, render_sip
from bench.soak import render as render_soak
from bench.soak import soak
from bench.utterances import espeak_pcm16, peak_normalized

FULL_STEPS = (10, 25, 50, 100, 150, 200, 250, 300)
QUICK_STEPS = (5, 20)
# Both are one unbroken run of speech for Silero (no pause near the VAD's 160 ms pause window),
# so each is exactly one user turn: "Wait, one more thing." pauses 240 ms after "Wait" and
# would end a turn (and start a new reply) in the middle of the barge-in.
QUESTION = "What are your opening hours?"
INTERRUPTION = "Hold on a second"
SCALE_BUDGET_S = 9 * 60
# Conversational-feel probes per kind (scripted stack), and per kind on the offline stack.
FEEL_PROBES, QUICK_FEEL_PROBES = 24, 2
FEEL_OFFLINE_PROBES, QUICK_FEEL_OFFLINE_PROBES = 20, 1
FEEL_CROWD_ROUNDS, QUICK_FEEL_CROWD_ROUNDS = 6, 1


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


async def _feel(args: argparse.Namespace, log: list[str]) -> list[FeelRun]:
    per_kind = args.feel_probes or (QUICK_FEEL_PROBES if args.quick else FEEL_PROBES)
    plans = [("scripted", scripted_plan(per_kind), SCRIPTED_CONCURRENCY)]
    if not args.skip_offline:
        offline = args.feel_offline_probes
        if offline is None:
            offline = QUICK_FEEL_OFFLINE_PROBES if args.quick else FEEL_OFFLINE_PROBES
        if offline > 0:
            plans.append(("offline", offline_plan(offline), 1))
        rounds = args.feel_crowd_rounds
        if rounds is None:
            rounds = QUICK_FEEL_CROWD_ROUNDS if args.quick else FEEL_CROWD_ROUNDS
        if rounds > 0:
            plans.append(("offline", crowd_plan(rounds), OFFLINE_CROWD))
    runs = []
    for stack, plan, concurrency in plans:
        _say(f"conversational feel, {stack} stack: {len(plan)} calls ...", log)
        run = await run_feel(stack, plan, concurrency, say=lambda line: _say(line, log))
        if run.unavailable:
            _say(f"  not measured: {run.unavailable}", log)
        if args.feel_calls is not None:
            _save_calls(run, args.feel_calls)
        runs.append(run)
    return runs


def _save_calls(run: FeelRun, directory: Path) -> None:
    """Each call's probe and saved conversation as JSON, to read what one call did."""
    directory.mkdir(parents=True, exist_ok=True)
    for call in run.calls:
        name = f"{run.stack}-{call.number:03d}-{call.probe.value}.json"
        record = {
            "probe": call.probe.value,
            "error": call.error,
            "yield_ms": call.yield_ms(),
            "conversation": call.saved,
        }
        (directory / name).write_text(json.dumps(record, indent=1))


def _dialer(args: argparse.Namespace, started: str, machine: str, log: list[str]) -> int:
    """Section 5 alone, replaced in the existing output file; non-zero if a check failed."""
    started_wall = time.monotonic()
    missing = services_missing()
    if missing:
        _say(f"dialer: not measured: {missing}", log)
        return 1
    version = code_version()  # before the run: others may commit while it goes on
    result = run_dialer(lambda line: _say(line, log), quick=args.quick)
    block = render_dialer(
        result,
        started=started,
        command=_command(),
        machine=machine,
        engine=version,
        quick=args.quick,
    )
    existing = args.output.read_text() if args.output.exists() else "# Velox benchmark results\n"
    args.output.write_text(splice_section(existing, block, DIALER))
    minutes = (time.monotonic() - started_wall) / 60
    _say(f"updated section 5 of {args.output} in {minutes:.1f} min", log)
    if not result.checks_passed:
        _say("dialer: a check FAILED: a lead was claimed or dialed twice (see the section)", log)
        return 1
    return 0


def _stress(args: argparse.Namespace, started: str, machine: str, log: list[str]) -> int:
    """Section 6 alone, replaced in the existing output file; non-zero if any run failed."""
    started_wall = time.monotonic()
    engine = engine_version()  # before the run: others may commit while it goes on
    results = run_stress(args.stress_runs, lambda line: _say(line, log))
    block = render_stress(
        results, started=started, command=_command(), machine=machine, engine=engine
    )
    existing = args.output.read_text() if args.output.exists() else "# Velox benchmark results\n"
    args.output.write_text(splice_section(existing, block, STRESS))
    minutes = (time.monotonic() - started_wall) / 60
    _say(f"updated section 6 of {args.output} in {minutes:.1f} min", log)
    return 1 if any(sum(c.failed.values()) for c in results) else 0


def _queries(args: argparse.Namespace, started: str, machine: str, log: list[str]) -> int:
    """Section 7 alone, replaced in the existing output file; non-zero if it could not run."""
    missing = postgres_missing()
    if missing:
        _say(f"call queries: not measured: {missing}", log)
        return 1
    version = code_version()  # before the run: others may commit while it goes on
    result = run_queries(lambda line: _say(line, log), quick=args.quick, calls=args.calls)
    block = render_queries(
        result,
        started=started,
        command=_command(),
        machine=machine,
        engine=version,
        quick=args.quick,
    )
    existing = args.output.read_text() if args.output.exists() else "# Velox benchmark results\n"
    args.output.write_text(splice_section(existing, block, QUERIES))
    _say(f"updated section 7 of {args.output} in {result.wall_s / 60:.1f} min", log)
    return 0


async def _sip(
    args: argparse.Namespace, started: str, machine: str, log: list[str]
) -> Callable[[str], str]:
    """Section 16 (`bench/sip_load.py`) measured; rendered beside the Twilio figures of the
    RESULTS.md text it is given."""
    talk_s = sip_load.QUICK_TALK_S if args.quick else sip_load.TALK_S
    rates, steps = await sip_load.run_section(
        sip_load.QUICK_STEPS if args.quick else sip_load.STEPS,
        sip_load.QUICK_RATES if args.quick else sip_load.RATES,
        talk_s,
        lambda line: _say(line, log),
    )
    run = SipRun(started=started, command=_command(), machine=machine, talk_s=talk_s)
    return lambda results_md: render_sip(rates, steps, run, results_md)


async def _soak(args: argparse.Namespace, log: list[str]) -> str:
    """Section 18: calls ending and starting on one server (`bench.soak`), as a block."""
    calls = args.soak_calls or (10 if args.quick else 50)
    minutes = args.soak_minutes or (0.5 if args.quick else 2.0)
    _say(f"soak: {calls} calls at once for {minutes:g} min ...", log)
    result = await soak(calls, minutes, warmup_s=min(30.0, minutes * 15))
    _say(f"  {result.placed} calls placed, {result.dropped} dropped", log)
    return render_soak(result, _command())


def _existing(path: Path) -> str:
    return path.read_text() if path.exists() else "# Velox benchmark results\n"


def _command() -> str:
    return "python -m bench" + (" " + " ".join(sys.argv[1:]) if sys.argv[1:] else "")


def _say(line: str, log: list[str]) -> None:
    log.append(line)
    print(line, flush=True)


async def _main(args: argparse.Namespace) -> int:
    started_wall = time.monotonic()
    started = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    machine = this_machine()
    log: list[str] = []
    _say(f"machine: {machine.describe()}", log)
    if args.only == "dialer":
        return _dialer(args, started, machine.describe(), log)
    if args.only == "stress":
        return _stress(args, started, machine.describe(), log)
    if args.only == "queries":
        return _queries(args, started, machine.describe(), log)
    if args.only == "sip":
        args.skip_scale = args.skip_offline = args.skip_feel = True
    if args.only == "offline":
        measured = f"Measured by `{_command()}` on {started}; machine: {machine.describe()}."
        text = await offline_only(_existing(args.output), args.quick, measured)
        args.output.write_text(text)
        return 0
    if args.only == "soak":
        args.output.write_text(splice_section(_existing(args.output), await _soak(args, log), SOAK))
        return 0
    if args.only == "feel":  # the feel section alone: no scale steps, no SIP runs
        args.skip_scale = args.skip_sip = True
    steps: list[StepResult] = []
    if not args.skip_scale:
        chosen = (
            tuple(int(n) for n in args.steps.split(","))
            if args.steps
            else (QUICK_STEPS if args.quick else FULL_STEPS)
        )
        steps = await _scale(chosen, 12.0 if args.quick else 30.0, log, args.workers)
    sip_block = await _sip(args, started, machine.describe(), log) if not args.skip_sip else None
    if args.only == "sip":
        assert sip_block is not None
        existing = args.output.read_text() if args.output.exists() else ""
        args.output.write_text(splice_section(existing, sip_block(existing), SIP))
        _say(f"updated section 16 of {args.output}", log)
        return 0
    offline: OfflineResult | None = None
    if not args.skip_offline and args.only is None:
        _say("offline stack: voice-to-voice ...", log)
        offline = await (run_offline(1, 2) if args.quick else run_offline(4, 6))
        if offline.unavailable:
            _say(f"  not measured: {offline.unavailable}", log)
        else:
            _say(f"  voice-to-voice p50 {offline.response.p50:.0f} ms", log)
    soak_block = None
    if not args.skip_soak and args.only is None:
        soak_block = await _soak(args, log)
    command = _command()
    feel_block = previous_block(args.output)
    if not args.skip_feel:
        engine = engine_version()  # before the run: others may commit while it goes on
        feel_block = render_feel(
            await _feel(args, log),
            engine=engine,
            started=started,
            command=command,
            machine=machine.describe(),
            quick=args.quick,
        )
    if args.only == "feel":
        assert feel_block is not None
        existing = (
            args.output.read_text() if args.output.exists() else "# Velox benchmark results\n"
        )
        args.output.write_text(splice(existing, feel_block))
        minutes = (time.monotonic() - started_wall) / 60
        _say(f"updated section 4 of {args.output} in {minutes:.1f} min", log)
        return 0
    run = Run(
        started=started,
        command=command,
        wall_s=time.monotonic() - started_wall,
        machine=machine,
        quick=args.quick,
        question_s=len(espeak_pcm16(QUESTION)) / 32000,
        interruption_s=len(espeak_pcm16(INTERRUPTION)) / 32000,
    )
    text = render(run, steps, offline, feel_block)
    # Measured by runs of their own: every section but the feel one this run made.
    for kept in (section for section in SECTIONS if section != FEEL):
        block: str | None
        if kept == OFFLINE_VOICE and offline is not None:
            continue
        if kept == SIP and sip_block:
            block = sip_block(text)
        elif kept == SOAK and soak_block:
            block = soak_block
        else:
            block = section_of(args.output, kept)
        if block:
            text = splice_section(text, block, kept)
    args.output.write_text(text)
    _say(f"wrote {args.output} in {run.wall_s / 60:.1f} min", log)
    return 0


def main() -> int:
    args = parse_options(__doc__, FEEL_PROBES, FEEL_OFFLINE_PROBES, FEEL_CROWD_ROUNDS)
    try:
        import uvloop
    except ImportError:
        return asyncio.run(_main(args))
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(_main(args))


if __name__ == "__main__":
    sys.exit(main())
