"""Section 16: SIP trunk calls against instant providers and the real VAD.

`python -m bench.sip_load` runs it alone and replaces section 16 of `bench/RESULTS.md`;
`python -m bench` runs it after section 1. Two measures, each against a fresh server process
(`python -m bench.serve --sip-port`, one process: SIP answers on one socket):

- Calls accepted per second: real sipp (`-sn uac`, calls held 1 s, no audio) offered 20, 50,
  100 and 200 calls a second for 5 s each (the organization's rate limits off); a rate is
  accepted when every call completed.
- Concurrent calls held: N callers of `bench/sip_line.py` talk over RTP as section 1's do
  (espeak-ng question, the agent's three-sentence tone answer, every third answer interrupted),
  stepped up until the agent's frames run late. Frame lateness, the send clock's jitter, and
  a barge-in's time to the agent's last RTP packet, beside the Twilio figures of sections 1-2.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import re
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bench.client_load import ClientLoad
from bench.machine import client_heap_frozen, load_average, this_machine
from bench.phone_line import Utterance
from bench.scale import LATENESS_LIMIT_MS, Script, converse, ramp_seconds
from bench.sections import SIP as SECTION
from bench.sections import splice_section
from bench.serve import SIP_NUMBER
from bench.server_process import ServerProcess
from bench.sip_line import SipLine, SipLineRecord, SipPhone
from bench.sip_report import SETUP_LIMIT_MS, SipRun, render_sip
from bench.stats import Summary, summarize
from bench.utterances import espeak_pcm16, peak_normalized

STEPS, QUICK_STEPS = (10, 25, 50, 100, 150), (5, 20)
RATES, QUICK_RATES = (20, 30, 40, 50, 75, 100, 150, 200), (20,)
RATE_SECONDS = 5
TALK_S, QUICK_TALK_S = 30.0, 12.0
QUESTION = "What are your opening hours?"
INTERRUPTION = "Hold on a second"


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class RateResult:
    rate: int
    offered: int
    successful: int
    failed: int
    setup: Summary  # INVITE → 200, each call's (sipp's -trace_rtt)
    answered_per_s: float  # 200s over the time from sipp's start to the last one
    wall_s: float
    exit_status: int

    @property
    def accepted(self) -> bool:
        completed = self.exit_status == 0 and self.successful == self.offered and not self.failed
        return completed and self.setup.p95 <= SETUP_LIMIT_MS


@dataclass
class SipStep:
    calls: int
    load_average: tuple[float, float, float]
    records: list[SipLineRecord]
    wall_s: float
    server_cpu_s: float
    client: ClientLoad

    @property
    def connected(self) -> int:
        return sum(1 for r in self.records if r.connected_at is not None)

    @property
    def errors(self) -> list[str]:
        return [r.error for r in self.records if r.error]

    @property
    def lateness(self) -> Summary:
        return summarize([x for r in self.records for x in r.lateness_ms()])

    @property
    def jitter(self) -> Summary:
        return summarize([x for r in self.records for x in r.jitter_ms()])

    @property
    def barge_in(self) -> Summary:
        return summarize([x for r in self.records for x in r.barge_in_to_last_packet_ms()])

    @property
    def held(self) -> bool:
        missing = sum(r.responses_missing for r in self.records)
        return (
            self.connected == self.calls
            and not self.errors
            and missing == 0
            and self.lateness.p99 <= LATENESS_LIMIT_MS
        )

    def client_lag_p99(self) -> float:
        return summarize(self.client.loop_lag_ms).p99

    def cpu_per_call_second(self) -> float:
        seconds = sum(r.call_seconds for r in self.records)
        return self.server_cpu_s / seconds if seconds else float("nan")


def run_rate(rate: int, seconds: int = RATE_SECONDS) -> RateResult:
    """sipp offers `rate` calls a second for `seconds` to a fresh server."""
    port = free_udp_port()
    offered = rate * seconds
    # Without the organization's new-calls-a-minute limit (300): the transport's capacity.
    server = ServerProcess("instant", sip_port=port, rate_limits=False)
    with server, tempfile.TemporaryDirectory() as work:
        time.sleep(1.0)
        started = time.monotonic()
        sipp = subprocess.run(
            [
                *("sipp", f"127.0.0.1:{port}", "-sn", "uac", "-s", SIP_NUMBER.lstrip("+")),
                *("-i", "127.0.0.1", "-p", str(free_udp_port()), "-nostdin"),
                *("-trace_rtt", "-rtt_freq", "1"),
                *("-r", str(rate), "-m", str(offered), "-d", "1000"),
                *("-timeout", f"{seconds + 30}s", "-timeout_error"),
            ],
            cwd=work,
            capture_output=True,
            text=True,
            timeout=seconds + 60,
            check=False,
        )
        wall = time.monotonic() - started
        answers = _rtt(Path(work))
    out = sipp.stdout
    return RateResult(
        rate=rate,
        offered=offered,
        successful=_count(r"Successful call\s*\|\s*\d+\s*\|\s*(\d+)", out),
        failed=_count(r"Failed call\s*\|\s*\d+\s*\|\s*(\d+)", out),
        setup=summarize([rtt for _, rtt in answers]),
        answered_per_s=len(answers) / (max(at for at, _ in answers) / 1000) if answers else 0.0,
        wall_s=wall,
        exit_status=sipp.returncode,
    )


def _count(pattern: str, text: str) -> int:
    found = re.search(pattern, text)
    return int(found.group(1)) if found else 0


def _rtt(work: Path) -> list[tuple[float, float]]:
    """Each call's 200: when (ms since sipp started) and its INVITE → 200 (ms), from sipp's
    `-trace_rtt` files."""
    found = []
    for path in work.glob("*_rtt.csv"):
        for line in path.read_text().splitlines()[1:]:
            fields = line.split(";")
            if len(fields) >= 2:
                found.append((float(fields[0]), float(fields[1])))
    return found


async def _one_call(phone: SipPhone, index: int, delay_s: float, script: Script) -> SipLineRecord:
    await asyncio.sleep(delay_s)
    line = SipLine(phone, SIP_NUMBER, index)
    try:
        await line.place()
        await converse(line, script, random.Random(index))
    except Exception as error:
        line.record.error = f"{type(error).__name__}: {error}"
    finally:
        await line.hang_up()
    return line.record


async def run_sip_step(calls: int, script: Script) -> SipStep:
    """N concurrent talking SIP calls against a fresh server; its CPU over the step."""
    port = free_udp_port()
    with ServerProcess("instant", sip_port=port) as server:
        await asyncio.sleep(1.0)
        load = load_average()
        cpu_started = server.cpu_seconds()
        started = time.monotonic()
        phone = SipPhone(("127.0.0.1", port))
        await phone.open()
        client = ClientLoad()
        client.start()
        ramp = ramp_seconds(calls)
        with client_heap_frozen():
            records = await asyncio.gather(
                *(_one_call(phone, n, ramp * n / calls, script) for n in range(calls))
            )
        await client.stop()
        phone.close()
        await asyncio.sleep(1.0)  # the server saves each call as it ends
        return SipStep(
            calls=calls,
            load_average=load,
            records=list(records),
            wall_s=time.monotonic() - started,
            server_cpu_s=server.cpu_seconds() - cpu_started,
            client=client,
        )


def script(talk_s: float) -> Script:
    return Script(
        question=Utterance.from_pcm16(peak_normalized(espeak_pcm16(QUESTION))),
        interruption=Utterance.from_pcm16(peak_normalized(espeak_pcm16(INTERRUPTION))),
        talk_s=talk_s,
    )


async def run_section(
    steps: tuple[int, ...], rates: tuple[int, ...], talk_s: float, say: Callable[[str], None]
) -> tuple[list[RateResult], list[SipStep]]:
    rate_results: list[RateResult] = []
    for rate in rates:
        say(f"SIP: sipp offers {rate} calls/s for {RATE_SECONDS} s ...")
        result = await asyncio.to_thread(run_rate, rate)
        rate_results.append(result)
        say(
            f"  {result.successful}/{result.offered} completed, {result.failed} failed, "
            f"INVITE → 200 p95 {result.setup.p95:.0f} ms"
        )
        if not result.accepted:
            break
    chosen = script(talk_s)
    sip_steps: list[SipStep] = []
    for calls in steps:
        say(f"SIP: {calls} concurrent talking calls for {talk_s:.0f} s each ...")
        step = await run_sip_step(calls, chosen)
        sip_steps.append(step)
        say(
            f"  lateness p99 {step.lateness.p99:.1f} ms, jitter p99 {step.jitter.p99:.1f} ms, "
            f"held={'yes' if step.held else 'no'}"
        )
        if not step.held:
            break
    return rate_results, sip_steps


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.sip_load", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="5 and 20 calls, 20 calls/s")
    parser.add_argument("--steps", help="comma-separated call counts, e.g. 10,50")
    parser.add_argument("--rates", help="comma-separated calls per second, e.g. 20,50")
    parser.add_argument("--talk-s", type=float, help="each call's talk time")
    parser.add_argument("--note", default="", help="a sentence for the section (machine state)")
    parser.add_argument("--output", type=Path, default=Path(__file__).parent / "RESULTS.md")
    args = parser.parse_args(argv)
    steps = _numbers(args.steps) or (QUICK_STEPS if args.quick else STEPS)
    rates = _numbers(args.rates) or (QUICK_RATES if args.quick else RATES)
    talk_s = args.talk_s or (QUICK_TALK_S if args.quick else TALK_S)
    started = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    machine = this_machine().describe()
    print(f"machine: {machine}", flush=True)
    measure = run_section(steps, rates, talk_s, lambda line: print(line, flush=True))
    try:
        import uvloop
    except ImportError:
        rate_results, sip_steps = asyncio.run(measure)
    else:
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            rate_results, sip_steps = runner.run(measure)
    existing = args.output.read_text() if args.output.exists() else "# Velox benchmark results\n"
    block = render_sip(
        rate_results,
        sip_steps,
        SipRun(
            started=started,
            command=_command(args.note),
            machine=machine,
            talk_s=talk_s,
            note=args.note,
        ),
        existing,
    )
    args.output.write_text(splice_section(existing, block, SECTION))
    print(f"updated section 16 of {args.output}", flush=True)
    return 0


def _command(note: str) -> str:
    """This run's command line, its note shortened (the note is printed after it)."""
    shown = ["…" if note and arg == note else arg for arg in sys.argv[1:]]
    return " ".join(["python -m bench.sip_load", *shown])


def _numbers(text: str | None) -> tuple[int, ...]:
    return tuple(int(n) for n in text.split(",")) if text else ()


if __name__ == "__main__":
    sys.exit(main())
