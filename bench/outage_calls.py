"""The provider-outage run's callers and what they heard.

Each call waits for the greeting, then asks its questions one at a time. For each question the
caller times the silence until the agent's first frame, then listens until the line has been
quiet for the whole silence budget, noting every silence inside the agent's speech. A call
is a dead-air call when any of those silences outlasts the budget, or when the saved
conversation shows a question left without a whole answer or the fallback line.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx

from bench.outage_world import ANSWER, BACKUP_ANSWER, FALLBACK, OutageWorld
from bench.phone_line import PhoneLine, Utterance
from bench.saved_calls import ended_conversations
from bench.stats import Summary, summarize
from tests.audio_samples import silence, speech_like

GREETING_TIMEOUT_S = 10.0
PLAYED_TIMEOUT_S = 20.0
QUESTION_S = 1.0
ANSWERS = frozenset({"".join(ANSWER).strip(), BACKUP_ANSWER})


class ListeningLine(PhoneLine):
    """A phone line that also notes every silence inside the agent's speech."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.gaps_ms: list[float] = []

    def _on_media(self, now: float, message: str) -> None:
        # Audio arrives ahead of playing: the line is silent only once all received has played.
        if self._response_first is not None and not self._cleared and now > self._play_end:
            self.gaps_ms.append((now - self._play_end) * 1000)
        super()._on_media(now, message)


@dataclass
class CallOutcome:
    number: int
    conversation_id: str = ""
    response_ms: list[float] = field(default_factory=list)  # question end → first agent audio
    responses_missing: int = 0
    gaps_ms: list[float] = field(default_factory=list)
    answers: int = 0
    fallbacks: int = 0
    error: str | None = None
    # Agent turns saved as neither a whole answer nor the fallback line (with `interrupted`).
    others: list[tuple[str, bool]] = field(default_factory=list)
    saved: list[Any] = field(default_factory=list)
    events: list[Any] = field(default_factory=list)

    def worst_silence_ms(self) -> float:
        waits = self.response_ms + self.gaps_ms
        if self.responses_missing:
            waits.append(float("inf"))
        return max(waits, default=0.0)

    def dead_air(self, budget_ms: float, questions: int) -> bool:
        return (
            self.error is not None
            or self.worst_silence_ms() > budget_ms
            or self.answers + self.fallbacks < questions
        )


@dataclass
class OutageResult:
    budget_ms: int
    questions: int
    outcomes: list[CallOutcome]
    faults: dict[str, dict[str, int]]  # role → fault kind → requests it hit
    requests: dict[str, int]  # role → requests the double received
    transitions: list[tuple[float, str, str, str]]
    wall_s: float
    failed_reads: list[str] = field(default_factory=list)

    @property
    def dead_air_calls(self) -> list[CallOutcome]:
        return [o for o in self.outcomes if o.dead_air(self.budget_ms, self.questions)]

    @property
    def worst_silence_ms(self) -> float:
        return max((o.worst_silence_ms() for o in self.outcomes), default=0.0)

    @property
    def response(self) -> Summary:
        return summarize([x for o in self.outcomes for x in o.response_ms])

    @property
    def fallbacks(self) -> int:
        return sum(o.fallbacks for o in self.outcomes)

    @property
    def answers(self) -> int:
        return sum(o.answers for o in self.outcomes)

    def breaker_counts(self) -> Counter[tuple[str, str]]:
        """(provider, "opened"/"closed") → how many times."""
        return Counter((provider, what) for _, provider, _, what in self.transitions)


def question() -> Utterance:
    return Utterance.from_pcm16(speech_like(QUESTION_S) + silence(0.02))


async def one_call(
    world: OutageWorld,
    http: httpx.AsyncClient,
    number: int,
    utterance: Utterance,
    questions: int | None = None,
) -> CallOutcome:
    setting, outcome = world.setting, CallOutcome(number)
    budget_s = setting.silence_budget_ms / 1000
    rng = random.Random(setting.seed * 1000 + number)
    line = ListeningLine(
        world.service.base_url,
        world.service.agent_id,
        http,
        number=number,
        playout_lead_s=world.service.settings.playout_lead_ms / 1000,
    )
    try:
        async with line:
            outcome.conversation_id = line.record.conversation_id
            await line.wait_response(GREETING_TIMEOUT_S)
            await line.wait_played(PLAYED_TIMEOUT_S, quiet_s=budget_s)
            for _ in range(setting.questions if questions is None else questions):
                await asyncio.sleep(rng.uniform(0.3, 0.8))
                await line.speak(utterance)
                if await line.wait_response(budget_s + 1.0):
                    await line.wait_played(PLAYED_TIMEOUT_S, quiet_s=budget_s)
    except Exception as error:
        outcome.error = f"{type(error).__name__}: {error}"
    outcome.response_ms = list(line.record.response_ms)
    outcome.responses_missing = line.record.responses_missing
    outcome.gaps_ms = line.gaps_ms
    return outcome


def count_agent_turns(outcome: CallOutcome, body: dict[str, Any]) -> None:
    """Answers and fallback lines the saved conversation says the caller heard whole."""
    outcome.saved = [
        (e.get("role"), e.get("message"), e.get("interrupted")) for e in body.get("transcript", [])
    ]
    outcome.events = [e.get("kind") for e in body.get("velox", {}).get("events", [])]
    for entry in body.get("transcript", []):
        if entry.get("role") != "agent":
            continue
        message = (entry.get("message") or "").strip()
        if entry.get("interrupted"):
            outcome.others.append((message, True))
        elif message in ANSWERS:
            outcome.answers += 1
        elif message == FALLBACK:
            outcome.fallbacks += 1
        else:
            outcome.others.append((message, False))


async def run_calls(world: OutageWorld) -> OutageResult:
    """The setting's calls, `concurrency` at a time, faults on; then read back what was saved."""
    setting = world.setting
    utterance = question()
    slots = asyncio.Semaphore(setting.concurrency)
    started = time.monotonic()

    async def placed(http: httpx.AsyncClient, number: int) -> CallOutcome:
        async with slots:
            return await one_call(world, http, number, utterance)

    limits = httpx.Limits(max_connections=setting.concurrency + 5)
    async with httpx.AsyncClient(timeout=30, limits=limits) as http:
        outcomes = await asyncio.gather(*(placed(http, n) for n in range(setting.calls)))
    wall = time.monotonic() - started
    failed_reads: list[str] = []
    ids = [o.conversation_id for o in outcomes if o.conversation_id]
    bodies = await ended_conversations(
        world.service.base_url, world.service.api_key, ids, failed_reads, wait_s=30.0
    )
    for outcome in outcomes:
        body = bodies.get(outcome.conversation_id)
        if body is not None:
            count_agent_turns(outcome, body)
    return OutageResult(
        budget_ms=setting.silence_budget_ms,
        questions=setting.questions,
        outcomes=list(outcomes),
        faults={
            role: {fault.name: n for fault, n in plan.injected.items()}
            for role, plan in world.plans.items()
        },
        requests={role: plan.requests for role, plan in world.plans.items()},
        transitions=list(world.breakers.transitions),
        wall_s=wall,
        failed_reads=failed_reads,
    )


async def recover(world: OutageWorld) -> CallOutcome:
    """Faults off, a cooldown waited out, then one more call: each open breaker lets it try its
    provider again (recognizer, model and voice each), and the try closes the breaker."""
    world.faults(False)
    await asyncio.sleep(world.setting.breaker_cooldown_s + 0.2)
    async with httpx.AsyncClient(timeout=30) as http:
        return await one_call(world, http, world.setting.calls, question(), questions=1)
