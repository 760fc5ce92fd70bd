"""What recording costs.

The pipeline alone: N recordings in this process, fed a call's worth of caller and agent frames
on a simulated clock as fast as they go, then finished (MP3 encoded): the process's CPU time per
call-second recorded, and its resident memory per open recording. Then end to end: N concurrent
calls on a fresh server (instant providers, the real VAD), once without and once with
`privacy.record_voice` on the agent; "held" is the scale section's test (every call answered,
p99 frame lateness within 20 ms), and one recording of the recorded run is fetched back and
decoded, so the figures are those of calls that really were recorded. The end-to-end CPU and
memory differences come from two separate runs and are noisy; the pipeline's are not.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench.__main__ import INTERRUPTION, QUESTION
from bench.feel_report import engine_version
from bench.phone_line import Utterance
from bench.scale import Script, StepResult, ramp_seconds, run_step
from bench.sections import RECORDING, splice_section
from bench.utterances import espeak_pcm16, peak_normalized

SECTION = RECORDING
TARGET_CPU_S_PER_CALL_S = 0.002
TARGET_RSS_PER_CALL_KB = 200.0


@dataclass
class PipelineCost:
    recordings: int
    call_s: float
    cpu_s_per_call_s: float
    # The part of it spent in the serving process (the taps, the sender thread), where it
    # competes with the event loop; the rest is the writer process's.
    serving_cpu_s_per_call_s: float
    rss_per_recording_kb: float


def measure_pipeline(recordings: int, call_s: float, directory: Path) -> PipelineCost:
    """Feed `recordings` taps `call_s` of a Twilio call each (caller frames every 20 ms, the
    agent speaking half the time, a clear now and then) on a simulated clock. Each half second
    of it waits for the writer process to catch up, as real time lets it: unpaced, the frames of
    seconds not yet written pile up in its queue, and the memory read would be that backlog's.
    CPU and memory are this process's (the taps, the sender thread) plus the writer process's
    (the mixing and encoding)."""
    import os

    import numpy as np

    from app.calls.recording import CallRecording, recording_path
    from app.calls.recording_process import RecordingProcess
    from bench.machine import cpu_seconds, resident_bytes

    writer = RecordingProcess()
    writer.start()
    writer.wait()  # started and idle: its own footprint is not a recording's
    child = writer.process_id()
    assert child is not None

    def resident() -> int:
        return resident_bytes(os.getpid()) + resident_bytes(child)

    rss_before = resident()  # the recordings' own state included
    now = [1000.0]
    taps = [
        CallRecording(
            writer,
            directory,
            recording_path("bench", f"call{n}"),
            rate=8000,
            hold_s=0.7,
            clock=lambda: now[0],
        )
        for n in range(recordings)
    ]
    caller = (np.sin(np.arange(320) / 5) * 3000).astype(np.int16).tobytes()  # 20 ms, 16 kHz
    agent = (np.sin(np.arange(160) / 3) * 3000).astype(np.int16).tobytes()  # 20 ms, 8 kHz
    serving_before, writer_before = time.process_time(), cpu_seconds(child)
    frames = int(call_s / 0.02)
    rss_open = rss_before
    for index in range(frames):
        now[0] += 0.02
        speaking = (index // 150) % 2 == 1  # 3 s on, 3 s off
        for tap in taps:
            tap.caller_frame(caller)
            if speaking:
                tap.agent_frame(agent, 8000, now[0] + 0.2)
            if index % 500 == 499:
                tap.cleared(now[0])
        if index % 25 == 24:
            writer.wait()
        if index == frames // 2:
            rss_open = resident()

    async def close_all() -> None:
        await asyncio.gather(*(tap.close() for tap in taps))

    asyncio.run(close_all())
    serving = time.process_time() - serving_before
    cpu = serving + cpu_seconds(child) - writer_before
    writer.stop()
    return PipelineCost(
        recordings,
        call_s,
        cpu / (recordings * call_s),
        serving / (recordings * call_s),
        (rss_open - rss_before) / recordings / 1024,
    )


@dataclass
class RecordingCost:
    calls: int
    talk_s: float
    plain: StepResult
    recorded: StepResult
    sample_seconds: float  # the length of one recording fetched back and decoded
    pipeline: PipelineCost | None = None

    @property
    def added_cpu_per_call_s(self) -> float:
        return self.recorded.server_cpu_s / max(
            self.recorded.call_seconds, 1e-9
        ) - self.plain.server_cpu_s / max(self.plain.call_seconds, 1e-9)

    @staticmethod
    def rss_per_call_kb(step: StepResult) -> float:
        return (step.server_rss_peak - step.server_rss_idle) / step.calls / 1024

    @property
    def added_rss_per_call_kb(self) -> float:
        return self.rss_per_call_kb(self.recorded) - self.rss_per_call_kb(self.plain)


async def measure(calls: int, talk_s: float, workers: int) -> RecordingCost:
    script = Script(
        question=Utterance.from_pcm16(peak_normalized(espeak_pcm16(QUESTION))),
        interruption=Utterance.from_pcm16(peak_normalized(espeak_pcm16(INTERRUPTION))),
        talk_s=talk_s,
    )
    results: dict[bool, StepResult] = {}
    for record in (False, True):
        print(f"recording cost: {calls} calls, recording {'on' if record else 'off'} ...")
        results[record] = await run_step(calls, script, ramp_seconds(calls), workers, record=record)
    recorded = results[True]
    assert recorded.recording_seconds is not None
    return RecordingCost(calls, talk_s, results[False], recorded, recorded.recording_seconds)


def render(cost: RecordingCost, *, started: str, command: str, engine: str) -> str:
    plain, recorded = cost.plain, cost.recorded
    pipeline = cost.pipeline
    assert pipeline is not None
    cpu_verdict = "met" if pipeline.cpu_s_per_call_s <= TARGET_CPU_S_PER_CALL_S else "**missed**"
    rss_verdict = "met" if pipeline.rss_per_recording_kb <= TARGET_RSS_PER_CALL_KB else "**missed**"

    def row(name: str, step: StepResult) -> str:
        cpu = step.server_cpu_s / max(step.call_seconds, 1e-9)
        return (
            f"| {name} | {step.connected} / {len(step.errors)} | "
            f"{step.lateness.cell(p99=True)} | {cpu:.4f} | "
            f"{RecordingCost.rss_per_call_kb(step):.0f} | {'yes' if step.held else 'no'} |"
        )

    return "\n".join(
        [
            f"<!-- {SECTION}:begin -->",
            "## 8. Recording cost",
            "",
            f"Generated by `{command}` on {started} ({engine}). {cost.calls} concurrent "
            f"calls of {cost.talk_s:.0f} s on {cost.plain.workers} server process(es), instant "
            "providers and the "
            "real VAD, once without and once with `privacy.record_voice` (stereo MP3 at the "
            f"line's rate, written while the call runs). One recording fetched back: "
            f"{cost.sample_seconds:.1f} s of audio. The recorded server starts its recording "
            "writer processes before the baseline memory is read (the service starts one at a "
            "process's first recorded call): a writer's own footprint, the same for 1 call or "
            "100, is not memory per call.",
            "",
            "| run | connected / errors | frame lateness p50/p95/p99/max (ms) | "
            "server CPU-s per call-s | RSS per call (KiB) | held |",
            "|---|---|---|---|---|---|",
            row("not recorded", plain),
            row("recorded", recorded),
            "",
            "| target | measured | verdict |",
            "|---|---|---|",
            f"| added CPU ≤ {TARGET_CPU_S_PER_CALL_S} CPU-s per call-second (the pipeline "
            f"alone, {pipeline.recordings} recordings of {pipeline.call_s:.0f} s) | "
            f"{pipeline.cpu_s_per_call_s:.5f} | {cpu_verdict} |",
            f"| of which in the serving process (the rest in its recording writer process) | "
            f"{pipeline.serving_cpu_s_per_call_s:.5f} | |",
            f"| added memory ≤ {TARGET_RSS_PER_CALL_KB:.0f} KB per call (the pipeline alone, "
            f"per open recording) | {pipeline.rss_per_recording_kb:.0f} KiB | {rss_verdict} |",
            f"| end to end: server CPU-s per call-s, recorded minus not | "
            f"{cost.added_cpu_per_call_s:+.4f} | (two separate runs: noisy) |",
            f"| end to end: resident memory per call, recorded minus not | "
            f"{cost.added_rss_per_call_kb:+.0f} KiB | (two separate runs: noisy) |",
            f"| {cost.calls} recorded calls held in real time | "
            f"{'yes' if recorded.held else 'no'} | {'met' if recorded.held else '**missed**'} |",
            f"<!-- {SECTION}:end -->",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.recording_cost", description=__doc__)
    parser.add_argument("--calls", type=int, default=100)
    parser.add_argument("--talk-s", type=float, default=30.0)
    parser.add_argument(
        "--workers", type=int, default=2, help="server processes (default 2, one per core here)"
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=Path(__file__).with_name("RESULTS.md"),
        help="the results file whose section 8 this run replaces (default bench/RESULTS.md)",
    )
    args = parser.parse_args(argv)
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    with tempfile.TemporaryDirectory(prefix="velox-recording-bench-") as directory:
        print(f"recording pipeline: {args.calls} recordings of {args.talk_s:.0f} s ...")
        pipeline = measure_pipeline(args.calls, args.talk_s, Path(directory))
    cost = asyncio.run(measure(args.calls, args.talk_s, args.workers))
    cost.pipeline = pipeline
    text = render(
        cost,
        started=started,
        command="python -m bench.recording_cost " + " ".join(argv or sys.argv[1:]),
        engine=engine_version(),
    )
    print(text)
    existing = args.output.read_text() if args.output.exists() else "# Velox benchmark results\n"
    args.output.write_text(splice_section(existing, text, SECTION))
    return 0 if cost.recorded.held else 1


if __name__ == "__main__":
    sys.exit(main())
