"""Section 4: conversational feel — backchannels, coughs, echo, a thinking pause, interruptions.

Each call is one probe over a Twilio-protocol line: the caller asks a question, and about 1–2 s
into the spoken answer says "mm-hmm" or "okay", coughs, or talks over it (a real interruption);
or the agent's own voice comes back 20 dB down and 100 ms late for the whole call (echo); or the
caller pauses 700 ms mid-sentence (a hesitation). The agents keep the product's own barge-in,
echo and end-of-turn settings; the real Silero VAD decides what is speech.

Two stacks: `scripted` (a scripted recognizer, LLM and espeak-ng voice, a few calls at a time)
and `offline` (Whisper, SmolLM2 and Piper): one call at a time, hesitations and backchannels;
then `OFFLINE_CROWD` calls at a time, with coughs too, as the issue's load figures were taken.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

from bench.feel_line import FeelLine
from bench.feel_outcomes import ProbeCall
from bench.feel_probes import ECHO_DELAY_S, ECHO_GAIN_DB, CallerAudio, Probe, caller_audio
from bench.machine import load_average
from bench.saved_calls import ended_conversations
from bench.server_process import ServerProcess, ServerUnavailableError

SCRIPTED_CONCURRENCY = 4
OFFLINE_CROWD = 6  # offline calls at a time in the crowded run
PROBE_INTO_ANSWER_S = (1.0, 2.0)  # when the probe starts, after the answer's first frame
QUIET_AFTER_S = 1.5  # the reply is over once nothing arrived for this long


@dataclass(frozen=True, slots=True)
class Timeouts:
    greeting_s: float
    response_s: float
    played_s: float


SCRIPTED_TIMEOUTS = Timeouts(greeting_s=6.0, response_s=6.0, played_s=20.0)
OFFLINE_TIMEOUTS = Timeouts(greeting_s=30.0, response_s=20.0, played_s=60.0)


@dataclass
class FeelRun:
    """One stack's probe calls."""

    stack: str
    concurrency: int
    vad: str = ""
    calls: list[ProbeCall] = field(default_factory=list)
    failed_reads: list[str] = field(default_factory=list)
    load_average: tuple[float, float, float] = (0.0, 0.0, 0.0)
    wall_s: float = 0.0
    unavailable: str = ""  # why the stack could not run, if it could not

    @property
    def label(self) -> str:
        """How the report names the run: its stack, and its crowd on the offline stack."""
        if self.stack == "scripted" or self.concurrency == 1:
            return self.stack
        return f"{self.stack}, {self.concurrency} at once"

    @property
    def errors(self) -> list[str]:
        return [c.error for c in self.calls if c.error]


def scripted_plan(per_kind: int) -> list[Probe]:
    """Every kind `per_kind` times, interleaved so each kind sees the same load over the run."""
    return [probe for _ in range(per_kind) for probe in Probe]


def offline_plan(per_kind: int) -> list[Probe]:
    """Hesitations and backchannels ("mm-hmm" and "okay" in turn), `per_kind` of each."""
    backchannels = [Probe.MM_HMM, Probe.OKAY]
    return [
        probe
        for n in range(per_kind)
        for probe in (Probe.HESITATION, backchannels[n % len(backchannels)])
    ]


def crowd_plan(rounds: int) -> list[Probe]:
    """The mix the issue measured under load, `rounds` times: per round an "mm-hmm", an "okay",
    two coughs and a hesitation (so as many coughs as backchannels), interleaved so that every
    kind meets the same crowd."""
    kinds = (Probe.MM_HMM, Probe.COUGH, Probe.OKAY, Probe.COUGH, Probe.HESITATION)
    return [probe for _ in range(rounds) for probe in kinds]


async def run_feel(
    stack: str, plan: list[Probe], concurrency: int, say: Callable[[str], None] = print
) -> FeelRun:
    run = FeelRun(stack=stack, concurrency=concurrency)
    audio = caller_audio()
    timeouts = SCRIPTED_TIMEOUTS if stack == "scripted" else OFFLINE_TIMEOUTS
    started = time.monotonic()
    try:
        with ServerProcess(stack, feel=True, start_timeout_s=300) as server:
            run.vad = server.vad
            await asyncio.sleep(1.0)  # let start-up work settle
            run.load_average = load_average()
            gate = asyncio.Semaphore(concurrency)
            async with httpx.AsyncClient(timeout=30) as http:
                # Not counted: the first call pays for cold caches (the LLM's first prompt).
                await _call(server, http, len(plan), Probe.COUGH, audio, timeouts)

                async def one(number: int, probe: Probe) -> ProbeCall:
                    async with gate:
                        call = await _call(server, http, number, probe, audio, timeouts)
                    if (number + 1) % 10 == 0:
                        say(f"  {number + 1} of {len(plan)} calls done")
                    return call

                run.calls = list(
                    await asyncio.gather(*(one(n, probe) for n, probe in enumerate(plan)))
                )
            await asyncio.sleep(1.0)  # the server saves each call as it ends
            saved = await ended_conversations(
                server.base_url,
                server.api_key,
                [c.conversation_id for c in run.calls],
                run.failed_reads,
            )
            for call in run.calls:
                call.saved = saved.get(call.conversation_id, {})
    except ServerUnavailableError as error:
        run.unavailable = str(error)
    run.wall_s = time.monotonic() - started
    return run


async def _call(
    server: ServerProcess,
    http: httpx.AsyncClient,
    number: int,
    probe: Probe,
    audio: CallerAudio,
    timeouts: Timeouts,
) -> ProbeCall:
    rng = random.Random(number)
    call = ProbeCall(
        probe=probe,
        number=number,
        hesitation_frames=(audio.hesitation_first_frames, audio.hesitation_second_at),
    )
    line = FeelLine(
        server.base_url,
        server.agents[probe.value],
        http,
        number=number,
        playout_lead_s=server.playout_lead_ms / 1000,
    )
    call.timeline = line.timeline
    try:
        async with line:
            call.conversation_id = line.record.conversation_id
            if probe is Probe.ECHO:
                line.echo_agent(gain_db=ECHO_GAIN_DB, delay_s=ECHO_DELAY_S)
            await line.wait_response(timeouts.greeting_s)
            await line.wait_played(timeouts.played_s, quiet_s=QUIET_AFTER_S)
            await asyncio.sleep(rng.uniform(0.3, 0.6))
            if probe is Probe.HESITATION:
                await line.speak(audio.probes[probe])
                call.probe_sent = line.utterances_sent[-1]
                await line.wait_response(timeouts.response_s)
            else:
                await line.speak(audio.question)
                call.question_sent = line.utterances_sent[-1]
                if not await line.wait_response(timeouts.response_s):
                    raise TimeoutError("the question was not answered")
                call.answer_first_at = line.response_first_at
                if probe is not Probe.ECHO:
                    await asyncio.sleep(rng.uniform(*PROBE_INTO_ANSWER_S))
                    await line.speak(audio.probes[probe])
                    call.probe_sent = line.utterances_sent[-1]
                    # The rest of the reply (resumed), or the answer to the interruption.
                    await line.wait_response(timeouts.response_s)
            await line.wait_played(timeouts.played_s, quiet_s=QUIET_AFTER_S)
    except Exception as error:
        call.error = f"{type(error).__name__}: {error}"
    return call
