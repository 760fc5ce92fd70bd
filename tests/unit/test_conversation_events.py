"""A transport with a screen is told the conversation as it happens (no sockets involved)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from app.audio.formats import PCM16_16K, AudioFormat
from app.config.agent import AgentConfig
from app.engine import turn_taking
from app.engine.conversation import CallContext
from app.engine.options import EngineOptions
from app.engine.record import CallRecord
from app.engine.session import CallSession
from app.engine.transport import ConversationEvents
from app.providers.base import StartsFinalsEarly
from app.providers.energy.vad import EnergyVad
from app.providers.registry import ProviderSet
from telephony.audio import OutboundEncoder
from tests.audio_samples import speech_like
from tests.fakes.providers import (
    ScriptedLanguageModel,
    ScriptedSpeechToText,
    ScriptedSttStream,
    ToneTextToSpeech,
)

pytestmark = pytest.mark.unit

ANSWER = "We open at nine on weekdays. On Saturdays we open at ten. We close at five."


class Screen(ConversationEvents):
    def __init__(self) -> None:
        self.seen: list[tuple[str, Any]] = []

    def user_transcript(self, text: str) -> None:
        self.seen.append(("user_transcript", text))

    def agent_response(self, text: str) -> None:
        self.seen.append(("agent_response", text))

    def agent_response_correction(self, original: str, heard: str) -> None:
        self.seen.append(("correction", (original, heard)))

    def interruption(self) -> None:
        self.seen.append(("interruption", None))

    def vad_score(self, probability: float) -> None:
        pass


class PacedLine:
    """A line that reports each mark as played once its audio's duration has passed."""

    output_format: AudioFormat = PCM16_16K
    frames_per_message = 1

    def __init__(self) -> None:
        self.session: CallSession | None = None
        self.sent_seconds = 0.0
        self.started = 0.0

    def new_encoder(self) -> OutboundEncoder:
        return OutboundEncoder(PCM16_16K)

    async def send_audio(self, frame: bytes) -> None:
        self.sent_seconds += PCM16_16K.duration_ms(len(frame)) / 1000

    async def send_mark(self, name: str) -> None:
        loop = asyncio.get_running_loop()
        played_at = self.started + self.sent_seconds
        assert self.session is not None
        loop.call_at(max(loop.time(), played_at), self.session.on_mark, name)

    async def send_clear(self) -> None:
        return None

    async def hang_up(self) -> None:
        return None

    async def transfer(self, phone_number: str) -> None:
        return None


class Recorder:
    def __init__(self) -> None:
        self.records: list[CallRecord] = []

    async def save(self, record: CallRecord) -> None:
        self.records.append(record)


async def feed(session: CallSession, pcm: bytes) -> None:
    for start in range(0, len(pcm), 640):
        session.push_audio(pcm[start : start + 640].ljust(640, b"\0"))
        await asyncio.sleep(0.02)


async def test_transcripts_responses_and_interruptions_reach_the_screen() -> None:
    config = AgentConfig()
    config.conversation_config.agent.first_message = ""
    screen, line = Screen(), PacedLine()
    session = CallSession(
        context=CallContext(call_id="conv_1", organization_id="org_1", agent_id="agent_1"),
        config=config,
        providers=ProviderSet(
            vad=EnergyVad(),
            stt=ScriptedSpeechToText(["When do you open?", "Thanks, bye."]),
            llm=ScriptedLanguageModel(lambda m: ANSWER),
            tts=ToneTextToSpeech(),
        ),
        transport=line,
        recorder=Recorder(),
        options=EngineOptions(),
        events=screen,
    )
    line.session = session
    line.started = asyncio.get_running_loop().time()
    await session.start()
    await feed(session, speech_like(0.8) + bytes(640 * 110))  # ask, then 2.2 s of listening
    await feed(session, speech_like(0.6) + bytes(640 * 10))  # cut in during the answer
    await session.close("test_over")

    kinds = [kind for kind, _ in screen.seen]
    assert kinds[:4] == ["user_transcript", "agent_response", "interruption", "correction"]
    assert screen.seen[0] == ("user_transcript", "When do you open?")
    assert screen.seen[1] == ("agent_response", ANSWER)
    original, heard = screen.seen[3][1]
    assert original == ANSWER
    assert heard == "We open at nine on weekdays."  # the one sentence played to its mark


async def test_a_final_that_arrives_after_its_window_ends_the_turn_at_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The line sends nothing after the pause, and the watchdog that keeps the clock rules
    # running on a silent line does not tick within the test: only the final can end the turn.
    monkeypatch.setattr(turn_taking, "WATCHDOG_INTERVAL_S", 30.0)
    config = AgentConfig()
    config.conversation_config.agent.first_message = ""
    recorder = Recorder()
    # The final comes 0.3 s after the pause is noticed: past the question's 280 ms window.
    stt = ScriptedSpeechToText(["When do you open?"], final_delay_s=0.3, interim_every_s=10.0)
    session = CallSession(
        context=CallContext(call_id="conv_1", organization_id="org_1", agent_id="agent_1"),
        config=config,
        providers=ProviderSet(
            vad=EnergyVad(),
            stt=stt,
            llm=ScriptedLanguageModel(lambda m: ANSWER),
            tts=ToneTextToSpeech(),
        ),
        transport=PacedLine(),
        recorder=recorder,
        options=EngineOptions(),
    )
    await session.start()
    pcm = speech_like(0.8) + bytes(640 * 30)
    for start in range(0, len(pcm), 640):  # at once: the line then sends nothing more
        session.push_audio(pcm[start : start + 640])
    await asyncio.sleep(1.0)
    await session.close("test_over")

    [record] = recorder.records
    asked = [turn for turn in record.turns if turn.role == "user"]
    assert [turn.message for turn in asked] == ["When do you open?"]
    metrics = asked[0].metrics
    final_ms, endpoint_ms = metrics["stt_final_ms"], metrics["end_of_speech_to_endpoint_ms"]
    assert isinstance(final_ms, float)
    assert isinstance(endpoint_ms, float)
    assert 0 <= endpoint_ms - final_ms < 15, (final_ms, endpoint_ms)


class EarlyStartingStt(ScriptedSpeechToText):
    """A recognizer that starts its finals early: it notes when the engine says so."""

    def __init__(self, utterances: list[str]) -> None:
        super().__init__(utterances, interim_every_s=10.0)
        self.told: list[tuple[str, int]] = []  # (what, frames heard by then)
        self.pause_in_ms: list[int] = []
        self.frames = 0

    async def open_stream(self, language: str) -> ScriptedSttStream:
        owner = self

        class Stream(ScriptedSttStream):
            async def push_audio(self, frame: bytes) -> None:
                owner.frames += 1
                await super().push_audio(frame)

            async def caller_pausing(self, pause_in_ms: int) -> None:
                owner.told.append(("pausing", owner.frames))
                owner.pause_in_ms.append(pause_in_ms)

            async def finalize(self) -> None:
                owner.told.append(("finalize", owner.frames))
                await super().finalize()

        stream = Stream(self)
        self.streams.append(stream)
        return stream


async def test_a_recognizer_that_starts_finals_early_is_told_at_each_quiet_in_speech() -> None:
    config = AgentConfig()
    config.conversation_config.agent.first_message = ""
    stt = EarlyStartingStt(["When do you open on Saturday?"])
    session = CallSession(
        context=CallContext(call_id="conv_1", organization_id="org_1", agent_id="agent_1"),
        config=config,
        providers=ProviderSet(
            vad=EnergyVad(),
            stt=stt,
            llm=ScriptedLanguageModel(lambda m: ANSWER),
            tts=ToneTextToSpeech(),
        ),
        transport=PacedLine(),
        recorder=Recorder(),
        options=EngineOptions(),
    )
    await session.start()
    gap = bytes(640 * 5)  # 100 ms between words: quiet, but not a pause
    await feed(session, speech_like(0.6) + gap + speech_like(0.4) + bytes(640 * 20))
    await session.close("test_over")

    assert isinstance(stt.streams[0], StartsFinalsEarly)
    # Once in the gap between words and once in the pause, each after 60 ms of quiet (the
    # frame that makes it 60 ms is heard before the engine says so); the final 100 ms later.
    speech = 30 + 5 + 20
    assert stt.told[:3] == [
        ("pausing", 30 + 3),
        ("pausing", speech + 3),
        ("finalize", speech + 8),
    ], stt.told
    assert stt.pause_in_ms[:2] == [100, 100]  # the segmenter's 160 ms pause, less the 60
