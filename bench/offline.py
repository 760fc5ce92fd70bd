"""Section 3: voice-to-voice on the offline stack (Silero, Whisper, SmolLM2, Piper).

Calls run one at a time (the models share two cores; concurrency would measure contention),
each asking espeak-ng-spoken questions in real time and listening to the whole answer.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import httpx

from app.config.agent import ProviderChoice
from bench.phone_line import LineRecord, MeasuredCalls, PhoneLine, Utterance
from bench.saved_calls import SavedTurns, user_turn_metrics
from bench.server_process import ServerProcess, ServerUnavailableError
from bench.stats import Summary, summarize
from bench.utterances import espeak_pcm16, peak_normalized

QUESTIONS = (
    "What are your opening hours?",
    "Do you deliver on weekends?",
    "How much does shipping cost?",
    "Can I change my order?",
    "Where is your nearest store?",
    "Do you sell gift cards?",
)
GREETING_TIMEOUT_S = 30.0
RESPONSE_TIMEOUT_S = 20.0
PLAYED_TIMEOUT_S = 60.0


@dataclass
class OfflineResult(MeasuredCalls):
    unavailable: str = ""  # why the section could not run, if it could not
    vad: str = ""
    llm: str = ProviderChoice().llm  # the product's default, which the offline stack serves
    records: list[LineRecord] = field(default_factory=list)
    saved: SavedTurns = field(default_factory=SavedTurns)
    utterance_seconds: list[float] = field(default_factory=list)

    def stage(self, key: str) -> Summary:
        return summarize([t[key] for t in self.saved.turns if key in t])

    @property
    def responses_missing(self) -> int:
        return sum(r.responses_missing for r in self.records)

    @property
    def errors(self) -> list[str]:
        return [r.error for r in self.records if r.error]


async def run_offline(calls: int, questions_per_call: int) -> OfflineResult:
    questions = [
        Utterance.from_pcm16(peak_normalized(espeak_pcm16(text)))
        for text in QUESTIONS[:questions_per_call]
    ]
    result = OfflineResult(utterance_seconds=[q.seconds for q in questions])
    try:
        with ServerProcess("offline", start_timeout_s=300) as server:
            result.vad = server.vad
            async with httpx.AsyncClient(timeout=30) as http:
                for number in range(calls):
                    result.records.append(await _one_call(server, http, number, questions))
            ids = [r.conversation_id for r in result.records]
            result.saved = await user_turn_metrics(server.base_url, server.api_key, ids)
    except ServerUnavailableError as error:
        result.unavailable = str(error)
    return result


async def _one_call(
    server: ServerProcess, http: httpx.AsyncClient, number: int, questions: list[Utterance]
) -> LineRecord:
    line = PhoneLine(
        server.base_url,
        server.agent_id,
        http,
        number=number,
        playout_lead_s=server.playout_lead_ms / 1000,
    )
    try:
        async with line:
            await line.wait_response(GREETING_TIMEOUT_S)
            await line.wait_played(PLAYED_TIMEOUT_S)
            for question in questions:
                await line.speak(question)
                if await line.wait_response(RESPONSE_TIMEOUT_S):
                    # Sentences of a local TTS may arrive with gaps: do not talk over the reply.
                    await line.wait_played(PLAYED_TIMEOUT_S, quiet_s=1.5)
    except Exception as error:
        line.record.error = f"{type(error).__name__}: {error}"
    return line.record
