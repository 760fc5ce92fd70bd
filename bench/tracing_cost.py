"""What tracing costs a call (`python -m bench.tracing_cost`).

In this process: the CPU time of one call's spans as the calls room makes them (the `call` span,
a `turn` span with its four stage spans per exchange, the call's end), with the OpenTelemetry SDK
and no exporter (`velox serve`'s default) and with the no-op tracer (`VELOX_TRACING=false`).
End to end: N concurrent calls on a fresh server (the instant stack, as the scale section runs
it), once with `VELOX_TRACING=false` and once with it on; the server's CPU seconds per
call-second each time. The two runs are separate servers on a shared machine: their difference
is noisy, the in-process figure is not. Prints its figures; writes no results file.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from app.calls.tracing import CallTrace
from app.engine.conversation import CallContext
from app.engine.record import CallRecord
from app.engine.response import ResponseTimings
from app.engine.transcript import TurnStages
from app.observability.tracing import configure_tracing, flush_spans

TURNS = 6


def _one_call(n: int) -> None:
    context = CallContext(f"conv_{n}", "org_bench", "agent_bench", channel="twilio")
    trace = CallTrace(context)
    now = time.monotonic()
    for turn in range(TURNS):
        t = now - 5 + turn * 0.01
        timings = ResponseTimings(t + 0.3, t + 0.5, t + 0.51, t + 0.6, t + 0.62, "llm", "tts")
        trace.turn(TurnStages("voice", False, t, t + 0.2, t + 0.3, timings, t + 3))
    record = CallRecord.opened(context.call_id, context.organization_id, context.agent_id)
    record.termination_reason = "caller_hung_up"
    trace.end(record)


def spans_cpu_us(calls: int, *, enabled: bool, endpoint: str = "") -> float:
    """CPU microseconds per call for its spans (TURNS exchanges each); with `endpoint`, the
    exporter's batching and its thread's encoding and sending included (process CPU time)."""
    configure_tracing(enabled=enabled, endpoint=endpoint)
    for n in range(50):  # warm up
        _one_call(n)
    started = time.process_time()
    for n in range(calls):
        _one_call(n)
        if n % 50 == 49:  # the exporter's queue (2048 spans) is never overrun
            flush_spans()
    configure_tracing(enabled=False)  # shuts the provider down: its last batches are sent
    return (time.process_time() - started) / calls * 1e6


@contextmanager
def collector() -> Iterator[str]:
    """A local OTLP/HTTP endpoint that takes every export (200) and throws it away."""

    class Sink(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *_args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Sink)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()


async def server_cpu_per_call_s(calls: int, talk_s: float, *, tracing: bool) -> float:
    from bench.__main__ import INTERRUPTION, QUESTION
    from bench.phone_line import Utterance
    from bench.scale import Script, ramp_seconds, run_step
    from bench.utterances import espeak_pcm16, peak_normalized

    script = Script(
        question=Utterance.from_pcm16(peak_normalized(espeak_pcm16(QUESTION))),
        interruption=Utterance.from_pcm16(peak_normalized(espeak_pcm16(INTERRUPTION))),
        talk_s=talk_s,
    )
    os.environ["VELOX_TRACING"] = "true" if tracing else "false"
    step = await run_step(calls, script, ramp_seconds(calls), 1)
    if step.errors:
        print(f"  errors: {step.errors[:3]}")
    return step.server_cpu_s / max(step.call_seconds, 1e-9)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.tracing_cost", description=__doc__)
    parser.add_argument("--spans-calls", type=int, default=2000)
    parser.add_argument("--calls", type=int, default=20, help="concurrent calls end to end")
    parser.add_argument("--talk-s", type=float, default=20.0)
    parser.add_argument("--rounds", type=int, default=2, help="end-to-end runs of each setting")
    args = parser.parse_args(argv)
    off = spans_cpu_us(args.spans_calls, enabled=False)
    on = spans_cpu_us(args.spans_calls, enabled=True)
    with collector() as url:
        exported = spans_cpu_us(args.spans_calls, enabled=True, endpoint=url)
    print(
        f"spans of one call ({TURNS} turns), CPU µs: no-op {off:.1f}, SDK no exporter {on:.1f},"
        f" SDK exporting over OTLP/HTTP {exported:.1f} (this process, its collector included)"
    )
    if args.calls <= 0:
        return 0
    figures: dict[bool, list[float]] = {False: [], True: []}
    for _ in range(args.rounds):
        for tracing in (False, True):
            value = asyncio.run(server_cpu_per_call_s(args.calls, args.talk_s, tracing=tracing))
            figures[tracing].append(value)
            print(f"  {args.calls} calls, tracing {'on' if tracing else 'off'}: {value:.5f}")
    for tracing, values in figures.items():
        listed = ", ".join(f"{v:.5f}" for v in values)
        print(f"server CPU-s per call-s, tracing {'on' if tracing else 'off'}: {listed}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
