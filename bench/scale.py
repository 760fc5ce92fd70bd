"""Section 1 and 2: many concurrent calls against instant providers and the real VAD.

Each step starts a fresh server process, dials N calls (spread over a ramp), and each call:
waits for the greeting to play, then loops: pause, speak a ~1.2 s question, time the agent's
first frame, and either listen to the whole answer or (every third answer) barge in.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import random
import time
from dataclasses import dataclass, field
from typing import Protocol

import httpx
import soundfile

from bench.client_load import ClientLoad
from bench.machine import client_heap_frozen, load_average
from bench.phone_line import LineRecord, MeasuredCalls, PhoneLine, Utterance
from bench.saved_calls import SavedTurns, user_turn_metrics
from bench.server_process import ServerProcess
from bench.stats import Summary, summarize

LATENESS_LIMIT_MS = 20.0
RESPONSE_TIMEOUT_S = 6.0
PLAYED_TIMEOUT_S = 12.0
BARGE_IN_EVERY = 3  # answers
SAVED_CALLS_READ = 100  # conversations read back per step for the server's own figures


@dataclass(frozen=True, slots=True)
class Script:
    question: Utterance
    interruption: Utterance
    talk_s: float


@dataclass
class StepResult(MeasuredCalls):
    calls: int
    workers: int
    vad: str
    playout_lead_ms: int
    load_average: tuple[float, float, float]
    records: list[LineRecord]
    wall_s: float
    server_cpu_s: float
    server_rss_idle: int
    server_rss_peak: int
    client: ClientLoad
    saved: SavedTurns = field(default_factory=SavedTurns)
    # A recorded run: one call's recording fetched back and decoded, its length in seconds.
    recording_seconds: float | None = None

    @property
    def connected(self) -> int:
        return sum(1 for r in self.records if r.connected_at is not None)

    @property
    def errors(self) -> list[str]:
        return [r.error for r in self.records if r.error]

    @property
    def call_seconds(self) -> float:
        return sum(r.call_seconds for r in self.records)

    @property
    def responses_missing(self) -> int:
        return sum(r.responses_missing for r in self.records)

    @property
    def held(self) -> bool:
        """Every call connected and answered, and p99 frame lateness within the limit."""
        return (
            self.connected == self.calls
            and not self.errors
            and self.responses_missing == 0
            and self.lateness.p99 <= LATENESS_LIMIT_MS
        )

    @property
    def lateness(self) -> Summary:
        return summarize([x for r in self.records for x in r.lateness_ms])

    @property
    def barge_in_to_clear(self) -> Summary:
        return summarize(
            [
                (b.clear_at - b.started_at) * 1000
                for r in self.records
                for b in r.barge_ins
                if b.clear_at is not None
            ]
        )

    @property
    def barge_in_to_last_frame(self) -> Summary:
        return summarize(
            [
                (b.last_media_at - b.started_at) * 1000
                for r in self.records
                for b in r.barge_ins
                if b.last_media_at is not None
            ]
        )

    @property
    def barge_ins_without_clear(self) -> int:
        return sum(1 for r in self.records for b in r.barge_ins if b.clear_at is None)

    @property
    def frames_after_clear(self) -> int:
        return sum(r.frames_after_clear for r in self.records)

    def cpu_per_call_second(self) -> float:
        return self.server_cpu_s / self.call_seconds if self.call_seconds else float("nan")

    def rss_per_call_mib(self) -> float:
        return (self.server_rss_peak - self.server_rss_idle) / self.calls / 2**20

    def client_cpu_per_call_second(self) -> float:
        return self.client.cpu_seconds / self.call_seconds if self.call_seconds else float("nan")


class Line(Protocol):
    """A caller's line, whatever carries it (Twilio's Media Streams, or SIP and RTP)."""

    async def speak(self, utterance: Utterance, *, barge_in: bool = False) -> None: ...

    async def wait_response(self, timeout_s: float) -> bool: ...

    async def wait_played(self, timeout_s: float, quiet_s: float = 0.3) -> None: ...


async def converse(line: Line, script: Script, rng: random.Random) -> None:
    """One caller's side of the conversation, until its talk time is up."""
    until = time.monotonic() + script.talk_s
    await line.wait_response(RESPONSE_TIMEOUT_S)  # the greeting
    await line.wait_played(PLAYED_TIMEOUT_S)
    answers = 0
    while time.monotonic() < until:
        await asyncio.sleep(rng.uniform(0.2, 0.6))
        await line.speak(script.question)
        if not await line.wait_response(RESPONSE_TIMEOUT_S):
            continue
        answers += 1
        if answers % BARGE_IN_EVERY == 0:
            await asyncio.sleep(rng.uniform(0.4, 1.5))  # into the 4.5 s answer
            await line.speak(script.interruption, barge_in=True)
            if not await line.wait_response(RESPONSE_TIMEOUT_S):
                continue
        await line.wait_played(PLAYED_TIMEOUT_S)


async def _one_call(
    server: ServerProcess,
    http: httpx.AsyncClient,
    number: int,
    delay_s: float,
    script: Script,
    client: ClientLoad,
) -> LineRecord:
    await asyncio.sleep(delay_s)
    line = PhoneLine(
        server.base_url,
        server.agent_id,
        http,
        number=number,
        playout_lead_s=server.playout_lead_ms / 1000,
        sender_lateness_ms=client.sender_lateness_ms,
    )
    try:
        async with line:
            await converse(line, script, random.Random(number))
    except Exception as error:
        line.record.error = f"{type(error).__name__}: {error}"
    return line.record


async def _sample_rss(server: ServerProcess, peak: list[int]) -> None:
    while True:
        with contextlib.suppress(OSError):
            peak[0] = max(peak[0], server.resident_bytes())
        await asyncio.sleep(0.5)


async def run_step(
    calls: int, script: Script, ramp_s: float, workers: int = 1, *, record: bool = False
) -> StepResult:
    """N concurrent calls against a fresh server; the server's CPU and memory over the step."""
    with ServerProcess("instant", workers=workers, record=record) as server:
        await asyncio.sleep(1.0)  # let start-up work settle before taking the baseline
        load = load_average()
        rss_idle = server.resident_bytes()
        cpu_started = server.cpu_seconds()
        started = time.monotonic()
        client = ClientLoad()
        client.start()
        peak = [rss_idle]
        sampler = asyncio.create_task(_sample_rss(server, peak))
        limits = httpx.Limits(max_connections=50)
        async with httpx.AsyncClient(timeout=30, limits=limits) as http:
            with client_heap_frozen():
                records = await asyncio.gather(
                    *(
                        _one_call(server, http, n, ramp_s * n / calls, script, client)
                        for n in range(calls)
                    )
                )
        await client.stop()
        sampler.cancel()
        await asyncio.sleep(1.0)  # the server saves each call as it ends
        cpu = server.cpu_seconds() - cpu_started
        wall = time.monotonic() - started
        ids = [r.conversation_id for r in records][:SAVED_CALLS_READ]
        saved = await user_turn_metrics(server.base_url, server.api_key, ids)
        recording = await recording_seconds(server, ids[0]) if record and ids else None
        return StepResult(
            calls=calls,
            workers=workers,
            vad=server.vad,
            playout_lead_ms=server.playout_lead_ms,
            load_average=load,
            records=list(records),
            wall_s=wall,
            server_cpu_s=cpu,
            server_rss_idle=rss_idle,
            server_rss_peak=peak[0],
            client=client,
            saved=saved,
            recording_seconds=recording,
        )


async def recording_seconds(server: ServerProcess, conversation_id: str) -> float:
    """Fetch a call's recording from the server and decode it: how long it is."""
    headers = {"xi-api-key": server.api_key}
    async with httpx.AsyncClient(base_url=server.base_url, headers=headers) as client:
        response = await client.get(f"/v1/convai/conversations/{conversation_id}/audio")
    response.raise_for_status()
    audio, rate = soundfile.read(io.BytesIO(response.content), dtype="int16")
    return len(audio) / rate


def ramp_seconds(calls: int) -> float:
    """Calls join over a few seconds, as real traffic does (about 25 new calls a second)."""
    return min(10.0, max(1.0, calls / 25))
