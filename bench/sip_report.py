"""Section 16 of `bench/RESULTS.md` as Markdown: SIP calls accepted per second, concurrent SIP
calls held, send jitter and barge-in, beside the Twilio figures that sections 1 and 2 of the
same file hold."""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bench.scale import LATENESS_LIMIT_MS
from bench.sections import SIP, markers

if TYPE_CHECKING:
    from bench.sip_load import RateResult, SipStep

# A rate of calls is accepted when every call completed and 95% were answered within this.
SETUP_LIMIT_MS = 1000.0


@dataclass(frozen=True, slots=True)
class SipRun:
    started: str
    command: str
    machine: str
    talk_s: float
    note: str = ""


def _commit() -> str:
    found = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
    )
    return found.stdout.strip() or "unknown"


def twilio_figures(results_md: str) -> tuple[str, str]:
    """Section 1's largest Twilio call count held and section 2's barge-in → last agent frame
    at its first row (p50 / p95 / p99), as the file has them; "not in the file" otherwise."""
    held = re.search(r"\*\*Largest call count held\*\*[^*]*\*\*(\d+)\*\*", results_md)
    section_2 = results_md.partition("## 2. Barge-in")[2].partition("\n## ")[0]
    row = re.search(r"^\| (\d+) \| \d+ \| [^|]+ \| ([^|]+) \|", section_2, re.MULTILINE)
    return (
        held.group(1) if held else "not in the file",
        f"{row.group(2).strip()} at {row.group(1)} calls" if row else "not in the file",
    )


def render_sip(rates: list[RateResult], steps: list[SipStep], run: SipRun, results_md: str) -> str:
    begin, end = markers(SIP)
    twilio_held, twilio_barge_in = twilio_figures(results_md)
    lines = [
        begin,
        "## 16. SIP trunk calls (instant providers)",
        "",
        f"Run {run.started} with `{run.command}` on {run.machine}; commit {_commit()}."
        + (f" {run.note}" if run.note else ""),
        "",
        "### Calls accepted per second (real sipp `-sn uac`, each call held 1 s, no audio, the "
        "organization's rate limits off)",
        "",
        "| offered calls/s | calls | completed | failed | INVITE → 200 (ms) | answered/s "
        "| sipp exit |",
        "|---|---|---|---|---|---|---|",
    ]
    for rate in rates:
        lines.append(
            f"| {rate.rate} | {rate.offered} | {rate.successful} | {rate.failed} "
            f"| {rate.setup.cell(p99=True)} | {rate.answered_per_s:.1f} | {rate.exit_status} |"
        )
    accepted = [r.rate for r in rates if r.accepted]
    lines += [
        "",
        f"**Calls accepted per second**: **{max(accepted) if accepted else 0}** (the highest "
        f"offered rate at which every call completed and 95% were answered within "
        f"{SETUP_LIMIT_MS:.0f} ms"
        + ("; higher rates not offered)." if rates and rates[-1].accepted else ").")
        + " Past it the calls still complete, but wait longer and longer for their 200 (sipp "
        "retransmits the INVITE meanwhile): the service answers no faster than the answered/s "
        "column says.",
        "",
        f"### Concurrent SIP calls held in real time (one server process, {run.talk_s:.0f} s "
        "of talk per call)",
        "",
        "Times in ms as p50 / p95 / p99 / max.",
        "",
        "| calls | connected / errors | frame lateness | send jitter | barge-in → last agent "
        "RTP packet | server CPU-s per call-s | client loop lag p99 | load avg | held |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for step in steps:
        lines.append(
            f"| {step.calls} | {step.connected} / {len(step.errors)} "
            f"| {step.lateness.cell(p99=True)} | {step.jitter.cell(p99=True)} "
            f"| {step.barge_in.cell(p99=True)} | {step.cpu_per_call_second():.4f} "
            f"| {step.client_lag_p99():.1f} "
            f"| {step.load_average[0]:.2f} | {'yes' if step.held else 'no'} |"
        )
    held = [s.calls for s in steps if s.held]
    first = steps[0] if steps else None
    lines += [
        "",
        f"**Largest SIP call count held** (p99 frame lateness ≤ {LATENESS_LIMIT_MS:.0f} ms, "
        f"every call connected and answered): **{max(held) if held else 0}**.",
        "",
        "### Beside the Twilio transport (sections 1 and 2 of this file)",
        "",
        "| figure | SIP | Twilio |",
        "|---|---|---|",
        f"| concurrent calls held on 2 cores | {max(held) if held else 0} (1 server process) "
        f"| {twilio_held} (section 1: 2 server processes) |",
        "| barge-in → the agent's last audio (p50 / p95 (/ p99) / max) | "
        + (f"{first.barge_in.cell(p99=True)} at {first.calls} calls" if first else "not measured")
        + f" | {twilio_barge_in} (section 2, → last agent frame) |",
        "| send jitter p99 | "
        + (f"{first.jitter.p99:.1f} ms at {first.calls} calls" if first else "not measured")
        + " | no such figure: Twilio paces the frames itself; section 1's frame lateness is "
        "the like-for-like figure |",
        "",
        "### How it is measured",
        "",
        "- The server is `python -m bench.serve --stack instant --sip-port P` (one process: SIP "
        "answers on one UDP socket), a fresh one per rate and per step; the instant agent and "
        "the real VAD of section 1.",
        "- Calls per second: sipp's built-in `uac` scenario at `-r R -m 5R -d 1000`, against a "
        "server started with `--no-rate-limits` (else an organization's 300 new calls a minute "
        "refuse the rest, as they should); completed "
        "and failed calls from sipp's final statistics, INVITE → 200 (p50 / p95 / p99 / max) "
        "from its `-trace_rtt` (whole milliseconds).",
        "- Concurrent calls: `bench/sip_line.py` callers in this process (one signalling socket, "
        "one RTP socket per call, on uvloop), joining over a ramp, each speaking section 1's "
        "espeak-ng question as PCMU every 20 ms on an absolute schedule, the agent's "
        "three-sentence answer interrupted every third time.",
        "- Frame lateness: within each agent response (audio more than 400 ms apart is two), "
        "packet n's arrival − (the response's first packet + n × 20 ms); an underrun of the "
        "service's send clock shows as lateness. Send jitter: each packet's spacing from the one "
        "before against their RTP timestamps' spacing. Barge-in: from the caller's first speech "
        "frame sent while the agent's audio flows to the agent's last RTP packet before a 100 ms "
        "gap (SIP has no `clear` message: the stream stops). Client loop lag: how late a 10 ms "
        "sleep of the callers' own process woke (high: the callers, not the service, were late).",
        end,
    ]
    return "\n".join(lines) + "\n"
