"""`python -m bench.soak`: calls ending and starting for a while on one server (section 18).

N callers each place call after call on the instant stack (the real VAD when Silero is there),
each call talking for 8 to 20 s (questions, answers, every third answer cut into), for the
duration. Measured: dropped calls (a caller's error, the server closing the line before the
caller hung up, a question left unanswered), the server's RSS, open file descriptors and
asyncio tasks every few seconds (`/bench/runtime` of `bench.serve`), and p99 frame lateness per
minute. RSS growth is taken from the end of the warm-up to the end; tasks and descriptors are
compared with the server idle before the first call and after the last.

Short by default (50 calls, 2 minutes); `--calls 200 --minutes 10` is the full setting.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import random
import statistics
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

import httpx

from bench.machine import client_heap_frozen, this_machine
from bench.phone_line import LineRecord, PhoneLine, Utterance
from bench.scale import Script, converse
from bench.sections import SOAK, splice_section
from bench.server_process import ServerProcess
from bench.stats import summarize
from bench.utterances import espeak_pcm16, peak_normalized

QUESTION = "What are your opening hours?"
INTERRUPTION = "Hold on a second"
TALK_S = (8.0, 20.0)
SAMPLE_S = 5.0
RSS_GROWTH_LIMIT = 0.05
DATABASE_FILE = "bench.db"  # bench.serve's SQLite file (and its -wal, -shm)


class SoakLine(PhoneLine):
    """A phone line that notes when each late frame came (per minute) and a server hang-up."""

    def __init__(
        self,
        base_url: str,
        agent_id: str,
        http: httpx.AsyncClient,
        *,
        number: int,
        playout_lead_s: float,
        started: float,
        minutes: dict[int, list[float]],
    ) -> None:
        super().__init__(base_url, agent_id, http, number=number, playout_lead_s=playout_lead_s)
        self._started = started
        self._minutes = minutes
        self.hanging_up = False
        self.dropped_by_server = False

    def _on_media(self, now: float, message: str) -> None:
        before = len(self.record.lateness_ms)
        super()._on_media(now, message)
        if len(self.record.lateness_ms) > before:
            minute = int((now - self._started) // 60)
            self._minutes.setdefault(minute, []).append(self.record.lateness_ms[-1])

    async def _receive_loop(self) -> None:
        await super()._receive_loop()
        self.dropped_by_server = not self.hanging_up

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.hanging_up = True
        await super().__aexit__(exc_type, exc, traceback)


@dataclass
class Sample:
    at_s: float
    rss: int
    fds: int
    tasks: int
    fd_kinds: dict[str, int] = field(default_factory=dict)


@dataclass
class SoakResult:
    calls: int
    minutes: float
    warmup_s: float
    placed: int = 0
    errors: list[str] = field(default_factory=list)
    dropped_by_server: int = 0
    unanswered: int = 0
    samples: list[Sample] = field(default_factory=list)
    idle_before: Sample | None = None
    idle_after: Sample | None = None
    lateness_by_minute: dict[int, list[float]] = field(default_factory=dict)

    @property
    def dropped(self) -> int:
        return len(self.errors) + self.dropped_by_server

    def rss_growth(self) -> tuple[int, int, float]:
        """RSS just after the warm-up and at the end (medians of three samples), and growth."""
        warm = [s.rss for s in self.samples if s.at_s >= self.warmup_s][:3]
        end = [s.rss for s in self.samples][-3:]
        start_rss, end_rss = int(statistics.median(warm)), int(statistics.median(end))
        return start_rss, end_rss, (end_rss - start_rss) / start_rss


async def _sample(server: ServerProcess, http: httpx.AsyncClient, started: float) -> Sample:
    counts = (await http.get(f"{server.base_url}/bench/runtime")).json()
    return Sample(
        time.monotonic() - started,
        server.resident_bytes(),
        counts["fds"],
        counts["tasks"],
        counts["fd_kinds"],
    )


async def _caller(
    server: ServerProcess,
    http: httpx.AsyncClient,
    slot: int,
    until: float,
    script: Script,
    result: SoakResult,
    started: float,
) -> None:
    rng = random.Random(slot)
    await asyncio.sleep(rng.uniform(0, 10))  # calls join over the first seconds
    number = slot * 10_000
    while time.monotonic() < until:
        number += 1
        result.placed += 1
        line = SoakLine(
            server.base_url,
            server.agent_id,
            http,
            number=number,
            playout_lead_s=server.playout_lead_ms / 1000,
            started=started,
            minutes=result.lateness_by_minute,
        )
        call = dataclasses.replace(script, talk_s=rng.uniform(*TALK_S))
        try:
            async with line:
                await converse(line, call, rng)
        except Exception as error:
            result.errors.append(f"{type(error).__name__}: {error}")
        record: LineRecord = line.record
        result.dropped_by_server += line.dropped_by_server
        result.unanswered += record.responses_missing


async def soak(calls: int, minutes: float, warmup_s: float) -> SoakResult:
    script = Script(
        question=Utterance.from_pcm16(peak_normalized(espeak_pcm16(QUESTION))),
        interruption=Utterance.from_pcm16(peak_normalized(espeak_pcm16(INTERRUPTION))),
        talk_s=TALK_S[0],
    )
    result = SoakResult(calls, minutes, warmup_s)
    # No tenant rates: one organization placing hundreds of calls a minute is what a soak is,
    # and the default new-calls-a-minute rate turned 16,650 of 19,668 calls away at 200 callers.
    with ServerProcess("instant", rate_limits=False) as server:
        limits = httpx.Limits(max_connections=calls + 10)
        async with httpx.AsyncClient(timeout=30, limits=limits) as http:
            await asyncio.sleep(1.0)
            started = time.monotonic()
            result.idle_before = await _sample(server, http, started)
            until = started + minutes * 60

            async def sampling() -> None:
                while True:
                    await asyncio.sleep(SAMPLE_S)
                    result.samples.append(await _sample(server, http, started))

            sampler = asyncio.create_task(sampling())
            with client_heap_frozen():
                await asyncio.gather(
                    *(
                        _caller(server, http, n, until, script, result, started)
                        for n in range(calls)
                    )
                )
            sampler.cancel()
        # The callers' pooled connections are the server's descriptors too: closed first.
        await asyncio.sleep(5.0)  # the last calls are saved and their tasks end
        async with httpx.AsyncClient(timeout=30) as http:
            result.idle_after = await _sample(server, http, started)
    return result


def _not_database(sample: Sample) -> int:
    """Descriptors other than the SQLite files, which the connection pool holds open (it grows
    to its size under load and keeps them: not a leak)."""
    return sum(n for kind, n in sample.fd_kinds.items() if not kind.startswith(DATABASE_FILE))


def _rss_by_minute(result: SoakResult) -> dict[int, int]:
    """The last RSS sample of each minute."""
    return {int(sample.at_s // 60): sample.rss for sample in result.samples}


def render(result: SoakResult, command: str) -> str:
    machine = this_machine()
    start_rss, end_rss, growth = result.rss_growth()
    before, after = result.idle_before, result.idle_after
    assert before is not None
    assert after is not None
    peak = max(result.samples, key=lambda s: s.tasks)
    minutes = sorted(result.lateness_by_minute)
    p99s = [summarize(result.lateness_by_minute[m]).p99 for m in minutes]
    held = result.dropped == 0 and growth < RSS_GROWTH_LIMIT
    held = (
        held and after.tasks <= before.tasks + 2 and _not_database(after) <= _not_database(before)
    )
    lines = [
        "<!-- soak:begin -->",
        "## 18. Soak: calls ending and starting on one server",
        "",
        f"`{command}`, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, on {machine.describe()} "
        "(the load average says how busy the machine was at the start; the full setting, "
        "`--calls 200 --minutes 10`, is for a quiet machine). One `bench.serve` process "
        f"(instant providers, no tenant rates); {result.calls} callers each placing call after "
        f"call for {result.minutes:g} min, each call {TALK_S[0]:g}-{TALK_S[1]:g} s of "
        f"questions, answers and barge-ins; warm-up {result.warmup_s:g} s.",
        "",
        "| calls placed | dropped (errors / server hang-ups) | questions unanswered "
        "| RSS after warm-up → end MiB | growth | tasks idle before → peak → idle after "
        "| fds idle before → peak → idle after |",
        "|---|---|---|---|---|---|---|",
        f"| {result.placed} | {result.dropped} ({len(result.errors)} / "
        f"{result.dropped_by_server}) | {result.unanswered} "
        f"| {start_rss / 2**20:.1f} → {end_rss / 2**20:.1f} | {growth:+.1%} "
        f"| {before.tasks} → {peak.tasks} → {after.tasks} "
        f"| {before.fds} → {max(s.fds for s in result.samples)} → {after.fds} |",
        "",
        "p99 frame lateness per minute (ms): "
        + ", ".join(f"min {m + 1}: {p:.1f}" for m, p in zip(minutes, p99s, strict=True)),
        "",
        "RSS at the end of each minute (MiB): "
        + ", ".join(
            f"min {m + 1}: {rss / 2**20:.1f}" for m, rss in sorted(_rss_by_minute(result).items())
        ),
        "",
        f"{'**Met**' if held else '**Not met**'}: 0 dropped calls, RSS growth under "
        f"{RSS_GROWTH_LIMIT:.0%} after warm-up, tasks and descriptors back to idle (those "
        "of the SQLite files aside: the connection pool keeps what it opened).",
    ]
    grown = {
        kind: n - before.fd_kinds.get(kind, 0)
        for kind, n in after.fd_kinds.items()
        if n != before.fd_kinds.get(kind, 0)
    }
    if grown:
        lines.append(
            "Descriptors idle after vs before, by kind: "
            + ", ".join(f"{kind} {n:+d}" for kind, n in sorted(grown.items()))
        )
    if result.errors:
        lines.append("Errors: " + "; ".join(sorted(set(result.errors))[:5]))
    lines += [
        "",
        "### How it is measured",
        "",
        "`bench/soak.py`: the callers are `PhoneLine`s (Twilio Media Streams, real time) running "
        "`bench.scale.converse`; a call is dropped when its caller fails, or the server closes "
        "the stream before the caller hangs up. Every 5 s the server's RSS (its process tree, "
        "from /proc) and its own count of asyncio tasks and open descriptors "
        "(`GET /bench/runtime`, served by `bench.serve` only) are sampled. RSS growth compares "
        "the medians of the first three samples after the warm-up and of the last three; idle "
        "counts are taken 1 s before the first call and 5 s after the last.",
        "<!-- soak:end -->",
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__)
    parser.add_argument("--calls", type=int, default=50, help="calls at once")
    parser.add_argument("--minutes", type=float, default=2.0)
    parser.add_argument("--warmup", type=float, default=30.0, help="seconds before RSS counts")
    parser.add_argument("--output", type=Path, default=Path(__file__).with_name("RESULTS.md"))
    args = parser.parse_args(argv)
    result = asyncio.run(soak(args.calls, args.minutes, args.warmup))
    command = "python -m bench.soak " + " ".join(argv if argv is not None else sys.argv[1:])
    text = render(result, command.strip())
    print(text)
    existing = args.output.read_text() if args.output.exists() else "# Velox benchmark results\n"
    args.output.write_text(splice_section(existing, text, SOAK))
    return 0 if result.dropped == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
