"""A hang-up cancels a call's work, and nothing may swallow that cancellation: a voice whose audio
arrives in the same loop turn as the cancel still stops (Python 3.11's `asyncio.wait_for`
returned the audio and dropped the cancel, so the response went on waiting for a caller who had
gone, and the call was never saved), and a call whose work ignores the cancel is saved anyway."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from app.aio import cancel_and_wait
from app.audio.formats import MULAW_8K, AudioChunk, AudioFormat
from app.config.agent import AgentConfig
from app.engine.conversation import CallContext
from app.engine.options import EngineOptions
from app.engine.session import CallSession
from app.providers.elevenlabs import tts as elevenlabs_tts
from app.providers.energy.vad import EnergyVad
from app.providers.registry import ProviderSet
from tests.fakes.providers import ScriptedLanguageModel, ScriptedSpeechToText, ToneTextToSpeech
from tests.unit.test_conversation_events import PacedLine, Recorder

pytestmark = pytest.mark.unit


class HeldSocket:
    """An ElevenLabs socket whose next message arrives when the test says."""

    close_code: int | None = None
    close_reason: str | None = None

    def __init__(self) -> None:
        self.reply: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self.waiting = asyncio.Event()

    async def send(self, message: str) -> None:
        return None

    async def recv(self) -> str:
        self.waiting.set()
        return await self.reply

    async def close(self) -> None:
        return None


async def test_a_voice_cancelled_in_the_turn_its_last_message_arrives_stops(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    socket = HeldSocket()

    async def opened(url: str, api_key: str) -> Any:
        return socket

    monkeypatch.setattr(elevenlabs_tts, "open_socket", opened)
    voice = elevenlabs_tts.ElevenLabsTextToSpeech("key")
    heard_to_the_end = False

    async def speak() -> None:
        nonlocal heard_to_the_end
        async for _ in voice.synthesize("Are you still there?", "voice", MULAW_8K):
            pass
        heard_to_the_end = True

    task = asyncio.create_task(speak())
    await socket.waiting.wait()
    socket.reply.set_result('{"isFinal": true}')  # the service's last message ...
    task.cancel()  # ... and the caller's hang-up, in the same turn of the loop
    with pytest.raises(asyncio.CancelledError):
        await task
    assert not heard_to_the_end


async def test_cancel_and_wait_passes_on_a_cancel_of_the_waiter_and_only_that() -> None:
    async def stubborn() -> None:
        try:
            await asyncio.sleep(30)
        finally:
            await asyncio.sleep(0.05)  # takes a moment to stop

    # A cancel of the task that waits propagates (suppress(CancelledError) dropped it) ...
    inner = asyncio.create_task(stubborn())
    await asyncio.sleep(0)
    waiter = asyncio.create_task(cancel_and_wait(inner))
    await asyncio.sleep(0.01)
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter

    # ... while the one it was already handling does not come back from a `finally`.
    reached: list[str] = []

    async def cleaning_up() -> None:
        helper = asyncio.create_task(stubborn())
        try:
            await asyncio.sleep(30)
        finally:
            await cancel_and_wait(helper)
            reached.append("after the helper")

    outer = asyncio.create_task(cleaning_up())
    await asyncio.sleep(0.01)
    outer.cancel()
    with pytest.raises(asyncio.CancelledError):
        await outer
    assert reached == ["after the helper"]


class DeafToCancel(ToneTextToSpeech):
    """A voice that goes on when its turn is cancelled, and never finishes (until the test
    lets it hear cancels again, so that the test's loop can end)."""

    deaf = True

    async def synthesize(
        self, text: str, voice_id: str, audio_format: AudioFormat
    ) -> AsyncIterator[AudioChunk]:
        while True:
            try:
                await asyncio.sleep(30)
            except asyncio.CancelledError:
                if not self.deaf:
                    raise
        yield AudioChunk(b"", audio_format)


class HangsOnLateWords(ToneTextToSpeech):
    """A voice that says the greeting, and never finishes the line the test adds late."""

    async def synthesize(
        self, text: str, voice_id: str, audio_format: AudioFormat
    ) -> AsyncIterator[AudioChunk]:
        if text == LATE_WORDS:
            await asyncio.sleep(3600)
        async for chunk in super().synthesize(text, voice_id, audio_format):
            yield chunk


LATE_WORDS = "One more thing."


async def started_call(
    recorder: Recorder, voice: ToneTextToSpeech, options: EngineOptions | None = None
) -> CallSession:
    """A call on `voice`, its greeting under way (being synthesized)."""
    config = AgentConfig()
    config.conversation_config.agent.first_message = "Hello, Acme."
    line = PacedLine()
    session = CallSession(
        context=CallContext(call_id="conv_1", organization_id="org_1", agent_id="agent_1"),
        config=config,
        providers=ProviderSet(
            vad=EnergyVad(),
            stt=ScriptedSpeechToText([]),
            llm=ScriptedLanguageModel(lambda m: "We open at nine."),
            tts=voice,
        ),
        transport=line,
        recorder=recorder,
        options=options or EngineOptions(),
    )
    line.session = session
    line.started = asyncio.get_running_loop().time()
    await session.start()
    await asyncio.sleep(0.1)
    return session


async def test_a_call_whose_work_ignores_the_hang_up_is_saved_all_the_same() -> None:
    recorder, voice = Recorder(), DeafToCancel()
    session = await started_call(recorder, voice, EngineOptions(call_shutdown_timeout_s=0.3))
    started = time.monotonic()
    try:
        async with asyncio.timeout(10):  # unbounded, this close waited for ever
            await session.close("caller_hung_up")
    finally:
        voice.deaf = False
    assert time.monotonic() - started < 3.0
    record = recorder.records[0]
    assert record.metrics["counters"]["shutdown_timeouts"] == 1
    assert [e.data for e in record.events if e.kind == "shutdown_timeout"] == [{"after_s": 0.3}]


def responses_left() -> list[asyncio.Task[Any]]:
    """The responses still running (cancelled, so that the test's loop can end)."""
    left = [
        task
        for task in asyncio.all_tasks()
        if task.get_name().startswith("response:") and not task.done()
    ]
    for task in left:
        task.cancel()
    return left


async def test_nothing_starts_speaking_once_the_call_is_closing() -> None:
    """A final transcript (or a timer, or a key) that lands while the call closes, after its
    response was stopped, started another response that nobody stopped: it waited for ever for a
    caller who had gone, until the collector destroyed it ("Task was destroyed but it is
    pending", seen in the soak at 200 calls)."""
    recorder = Recorder()
    session = await started_call(recorder, HangsOnLateWords())
    responder = session._responder
    close_tools = responder.close_tools

    async def words_land_meanwhile() -> None:  # after the response in flight was stopped
        responder.start(LATE_WORDS, "text")
        await close_tools()

    responder.close_tools = words_land_meanwhile  # type: ignore[method-assign]
    await session.close("caller_hung_up")
    assert responses_left() == []
    assert len(recorder.records) == 1


async def test_a_response_replaced_then_cut_before_it_ran_stops_the_one_it_replaced() -> None:
    """The next answer starts (replacing the one speaking) and a barge-in cuts it in the same
    loop turn, before it has run a step: the one it replaced was to be cancelled by the new
    task, which never ran, so it went on unstopped and forgotten (also seen in the soak)."""
    recorder = Recorder()
    session = await started_call(recorder, HangsOnLateWords())
    responder = session._responder
    responder.start(LATE_WORDS, "text")
    await asyncio.sleep(0.05)  # speaking (for ever)
    responder.start("We open at nine.", "text")
    await responder.cancel()
    await asyncio.sleep(0.05)
    assert responses_left() == []
    await session.close("caller_hung_up")
