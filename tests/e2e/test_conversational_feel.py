"""The agent yields at once to a real interruption, and only to a real one (Twilio-protocol calls).

Backchannels and coughs over the agent's reply stop it for a moment and it goes on; its own
voice echoed back does not stop it; a thinking pause mid-sentence does not end the caller's turn.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app.config.agent import AgentConfig
from app.providers.base import ChatMessage
from tests.audio_samples import noise, trim_silence
from tests.e2e.voice_service import VoiceService, voice_service
from tests.fakes.providers import ScriptedLanguageModel, ScriptedSpeechToText, ToneTextToSpeech
from tests.models.spoken import speak
from tests.twilio_caller import TwilioCaller

pytestmark = pytest.mark.e2e

GREETING = "Hi, Acme."
ANSWER = "We open at nine in the morning on weekdays. On Saturdays we open at ten and close at two."
BOOKING = "I would like to book an appointment for next Tuesday morning please"


def reply(messages: list[ChatMessage]) -> str:
    return ANSWER if "hours" in messages[-1].content else "Sure, Tuesday morning works."


@pytest.fixture
def service_for(tmp_path: Path) -> Iterator[Any]:
    stack = contextlib.ExitStack()

    def open_service(utterances: list[str]) -> VoiceService:
        config = AgentConfig(name="Front desk")
        config.conversation_config.agent.first_message = GREETING
        return stack.enter_context(
            voice_service(
                tmp_path,
                config=config,
                stt=ScriptedSpeechToText(utterances),
                llm=ScriptedLanguageModel(reply),
                tts=ToneTextToSpeech(),
            )
        )

    with stack:
        yield open_service


async def call(service: VoiceService) -> tuple[TwilioCaller, str]:
    stream_url, parameters = service.dial()
    caller = TwilioCaller(
        stream_url, custom_parameters=parameters, headers=service.stream_headers(stream_url)
    )
    await caller.__aenter__()
    return caller, parameters["conversation_id"]


async def ask_for_the_hours(caller: TwilioCaller) -> None:
    """The greeting plays out, the caller asks, and the answer starts playing."""
    await caller.silence(0.3)
    await caller.wait_for_audio(timeout=3)
    await caller.silence(1.2)
    heard = caller.audio_frames
    await caller.play(speak("What are your opening hours?"))
    listening = asyncio.create_task(caller.silence(3.0))
    await caller.wait_for(lambda: caller.audio_frames > heard + 50, timeout=3)  # 1 s of answer
    listening.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await listening


def kinds(body: dict[str, Any]) -> list[str]:
    return [event["kind"] for event in body["velox"]["events"]]


@pytest.mark.parametrize(
    ("probe", "said", "kind"),
    [
        (lambda: speak("mm-hmm"), "mm-hmm", "backchannel"),
        (lambda: speak("okay"), "okay", "backchannel"),
        (lambda: noise(0.15, dbfs=-12.0), "", "noise"),  # a cough: a short burst of noise
        # Whisper tiny hears a murmured "mm-hmm" as words: too short to be a sentence.
        (lambda: speak("mm-hmm"), "and remember.", "murmur"),
    ],
    ids=["mm-hmm", "okay", "cough", "mm-hmm-heard-as-words"],
)
async def test_a_backchannel_or_cough_over_the_reply_is_no_turn_and_the_reply_resumes(
    service_for: Any, probe: Any, said: str, kind: str
) -> None:
    service = service_for(["What are your opening hours?", said])
    caller, conversation_id = await call(service)
    try:
        await ask_for_the_hours(caller)
        await caller.play(probe())
        await caller.silence(6.0)  # the rest of the answer plays
    finally:
        await caller.__aexit__(None, None, None)

    body = service.ended_conversation(conversation_id)
    user_turns = [t["message"] for t in body["transcript"] if t["role"] == "user"]
    assert user_turns == ["What are your opening hours?"]
    answer = [t for t in body["transcript"] if t["role"] == "agent" and t["message"] == ANSWER]
    assert answer, body["transcript"]
    assert not answer[0]["interrupted"]
    events = kinds(body)
    assert "agent_yielded" in events
    assert "agent_resumed" in events
    assert kind in events
    assert "barge_in" not in events
    assert len(caller.clears) == 1
    assert len(service.llm.requests) == 1  # the probe was never answered


async def test_a_thinking_pause_mid_sentence_is_one_turn_answered_once(service_for: Any) -> None:
    first, second = "I would like to book an appointment", "for next Tuesday morning please"
    service = service_for([first, second])
    caller, conversation_id = await call(service)
    try:
        await caller.silence(0.3)
        await caller.wait_for_audio(timeout=3)
        await caller.silence(1.2)
        await caller.play(trim_silence(speak(first)))
        await caller.silence(0.7)  # a thinking pause, mid-sentence
        await caller.play(trim_silence(speak(second)))
        await caller.silence(3.0)
    finally:
        await caller.__aexit__(None, None, None)

    body = service.ended_conversation(conversation_id)
    user_turns = [t["message"] for t in body["transcript"] if t["role"] == "user"]
    assert user_turns == [f"{first} {second}"]
    assert len(service.llm.requests) == 1
    assert not caller.clears


async def test_the_agents_own_echo_does_not_interrupt_it(service_for: Any) -> None:
    service = service_for(["What are your opening hours?"])
    caller, conversation_id = await call(service)
    caller.echo_agent(gain_db=-20.0, delay_s=0.1)
    try:
        await ask_for_the_hours(caller)
        await caller.silence(6.0)
    finally:
        await caller.__aexit__(None, None, None)

    body = service.ended_conversation(conversation_id)
    assert not caller.clears
    events = kinds(body)
    assert "agent_yielded" not in events
    answer = [t for t in body["transcript"] if t["role"] == "agent" and t["message"] == ANSWER]
    assert answer
    assert not answer[0]["interrupted"]
    assert body["velox"]["metrics"]["counters"].get("echo_frames_gated", 0) > 0


async def test_a_short_interrupting_word_takes_the_turn(service_for: Any) -> None:
    service = service_for(["What are your opening hours?", "Wait."])
    caller, conversation_id = await call(service)
    try:
        await ask_for_the_hours(caller)
        await caller.play(speak("wait"))
        await caller.silence(3.0)
    finally:
        await caller.__aexit__(None, None, None)

    body = service.ended_conversation(conversation_id)
    user_turns = [t["message"] for t in body["transcript"] if t["role"] == "user"]
    assert user_turns == ["What are your opening hours?", "Wait."]
    assert [t for t in body["transcript"] if t["interrupted"]]
    assert len(service.llm.requests) == 2


async def test_a_real_interruption_clears_the_line_and_gets_a_new_answer(
    service_for: Any,
) -> None:
    service = service_for(["What are your opening hours?", "Actually I want to book a table"])
    caller, conversation_id = await call(service)
    try:
        await ask_for_the_hours(caller)
        heard = caller.audio_frames
        await caller.play(speak("Actually I want to book a table"))
        await caller.silence(3.0)
    finally:
        await caller.__aexit__(None, None, None)

    body = service.ended_conversation(conversation_id)
    assert caller.clears
    events = kinds(body)
    assert "barge_in" in events
    assert "agent_resumed" not in events
    interrupted = [t for t in body["transcript"] if t["interrupted"]]
    assert interrupted
    assert len(service.llm.requests) == 2
    assert caller.audio_frames > heard  # a new answer was spoken


async def test_an_interrupting_word_heard_late_keeps_the_agent_quiet_through_the_callers_breath(
    tmp_path: Path,
) -> None:
    # A recognizer without interim results (Whisper's kind): the words of "Sorry," come 450 ms
    # after the caller's pause began, after the caller has already gone on talking.
    config = AgentConfig(name="Front desk")
    config.conversation_config.agent.first_message = GREETING
    utterances = ["What are your opening hours?", "Sorry,", "can I book a cleaning?"]
    stt = ScriptedSpeechToText(utterances, final_delay_s=0.45, interim_every_s=100.0)
    with voice_service(
        tmp_path, config=config, stt=stt, llm=ScriptedLanguageModel(reply), tts=ToneTextToSpeech()
    ) as service:
        caller, conversation_id = await call(service)
        try:
            await ask_for_the_hours(caller)
            await caller.play(trim_silence(speak("sorry")))
            after_sorry = caller.audio_frames  # the agent yielded while "sorry" was said
            await caller.silence(0.35)  # the caller's breath
            await caller.play(trim_silence(speak("can I book a cleaning")))
            over_the_second_half = caller.audio_frames
            await caller.silence(3.0)
        finally:
            await caller.__aexit__(None, None, None)
        body = service.ended_conversation(conversation_id)

    events = kinds(body)
    assert "agent_resumed" not in events, events
    assert "barge_in" in events
    assert len(caller.clears) == 1
    # Nothing of the held answer came back in the breath or over the rest of the sentence.
    assert over_the_second_half == after_sorry, (after_sorry, over_the_second_half)
    user_turns = [t["message"] for t in body["transcript"] if t["role"] == "user"]
    assert user_turns[-1] == "Sorry, can I book a cleaning?"
